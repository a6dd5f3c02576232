using System.Security.Cryptography;
using System.Text;
using Vigil.Core.Configuration;
using Vigil.Fim.Baseline;

namespace Vigil.Fim.Tests.Baseline;

public sealed class FileEntryTests
{
    private static readonly FimChecks s_all = FimChecks.Size | FimChecks.Permissions | FimChecks.Owner | FimChecks.Group
        | FimChecks.Mtime | FimChecks.Inode | FimChecks.Md5 | FimChecks.Sha1 | FimChecks.Sha256;

    [Fact]
    public void Checksum_IsTheSha1OfWazuhsColonJoinedText()
    {
        var entry = Entry(s_all, "root", "root");

        // Wazuh's text for this entry, written out by hand: size:perm:attributes:uid:gid:user:group:mtime:inode:md5:sha1:sha256.
        var text = "68:rw-r--r--::0:0:root:root:1700000000:123456:44d88612fea8a8f36de82e1278abb02f:3395856ce81f2b7382dee72602f798b642f14140:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
        Assert.Equal(Sha1Hex(text), entry.Checksum);
    }

    [Fact]
    public void Checksum_LeavesOutWhatIsNotChecked_AndAHashNotRead()
    {
        var entry = Entry(FimChecks.Size | FimChecks.Mtime | FimChecks.Sha256, "root", "root") with { Sha256 = null };
        Assert.Equal(Sha1Hex("68:::::::1700000000::::"), entry.Checksum);
    }

    [Fact]
    public void Checksum_OfNamesTooLongForTheBuffer_IsTheSameText()
    {
        var user = new string('u', 700) + "é";
        var group = new string('g', 700);
        var entry = Entry(s_all, user, group);
        Assert.Equal(
            Sha1Hex($"68:rw-r--r--::0:0:{user}:{group}:1700000000:123456:44d88612fea8a8f36de82e1278abb02f:3395856ce81f2b7382dee72602f798b642f14140:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"),
            entry.Checksum);
    }

    [Fact]
    public void Checksum_WritesLargeNumbersInFull()
    {
        var entry = Entry(s_all, "ünïcode", "root") with { Size = long.MaxValue, Uid = uint.MaxValue, Inode = ulong.MaxValue, Mtime = -1 };
        Assert.Equal(
            Sha1Hex($"{long.MaxValue}:rw-r--r--::{uint.MaxValue}:0:ünïcode:root:-1:{ulong.MaxValue}:44d88612fea8a8f36de82e1278abb02f:3395856ce81f2b7382dee72602f798b642f14140:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"),
            entry.Checksum);
    }

    private static FileEntry Entry(FimChecks checks, string user, string group) => new(
        "/srv/a.txt", 68, "rw-r--r--", 0, 0, user, group, 1_700_000_000, 123456, 2049,
        "44d88612fea8a8f36de82e1278abb02f", "3395856ce81f2b7382dee72602f798b642f14140",
        "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", checks);

    private static string Sha1Hex(string text) => Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(text)));
}
