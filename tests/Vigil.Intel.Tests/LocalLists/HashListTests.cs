using Vigil.Core;
using Vigil.Core.Hashing;
using Vigil.Intel.LocalLists;

namespace Vigil.Intel.Tests.LocalLists;

public sealed class HashListTests
{
    private const string Sha256A = "0a5c4f4f9c0d6f0d3c7e1c0b7e6f5a4d3c2b1a09f8e7d6c5b4a3928170605040";
    private const string Md5A = "0123456789abcdef0123456789abcdef";

    [Fact]
    public void Parse_MalwareBazaarCsv_ReadsHashColumnsAndSignature()
    {
        string[] lines =
        [
            "################################################################",
            "# MalwareBazaar full data dump (CSV)                           #",
            "# \"first_seen_utc\",\"sha256_hash\",\"md5_hash\",\"sha1_hash\",\"reporter\",\"file_name\",\"file_type_guess\",\"mime_type\",\"signature\",\"clamav\",\"vtpercent\",\"imphash\",\"ssdeep\",\"tlsh\"",
            $"\"2024-01-01 00:00:10\", \"{Sha256A}\", \"{Md5A}\", \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"abuse_ch\", \"a, b.exe\", \"exe\", \"application/x-dosexec\", \"AgentTesla\", \"n/a\", \"50.00\", \"n/a\", \"n/a\", \"n/a\"",
            "# Number of entries: 1",
        ];

        var list = HashList.Parse("full.csv", lines);

        Assert.Equal(3, list.Count);
        Assert.True(list.TryMatch(Sha256A.ToUpperInvariant(), out var threat));
        Assert.Equal("AgentTesla", threat);
        Assert.True(list.TryMatch(Md5A, out _));
    }

    [Fact]
    public void Parse_CsvWithPlainHeader_UsesSha256Column()
    {
        var list = HashList.Parse("x.csv", ["name,sha256,size", $"evil.bin,{Sha256A},12"]);

        Assert.Equal(1, list.Count);
        Assert.True(list.TryMatch(Sha256A, out var threat));
        Assert.Null(threat);
    }

    [Fact]
    public void Parse_PlainAndSha256sumLines_SkipsCommentsAndJunk()
    {
        var list = HashList.Parse("x.txt", ["# my list", "", Md5A, $"{Sha256A}  /tmp/evil.bin", "not-a-hash"]);

        Assert.Equal(2, list.Count);
    }

    [Fact]
    public void Kinds_AreTheDigestsTheEntriesAreWrittenIn()
    {
        Assert.Equal(HashKinds.Md5 | HashKinds.Sha256, HashList.Parse("x.txt", [Md5A, Sha256A]).Kinds);
        Assert.Equal(HashKinds.Md5, HashList.Parse("x.txt", [Md5A]).Kinds);
        Assert.Equal(HashKinds.None, HashList.Parse("x.txt", ["# nothing"]).Kinds);

        // The built-in list's three digests are of one content: SHA-256 alone finds it.
        Assert.Equal(HashKinds.Sha256, HashList.Builtin.Kinds);
        Assert.Equal(HashKinds.Sha256, new LocalIntel([HashList.Builtin]).Kinds);
        Assert.Equal(HashKinds.Sha256 | HashKinds.Md5, new LocalIntel([HashList.Builtin, HashList.Parse("x.txt", [Md5A])]).Kinds);
    }

    [Fact]
    public void Builtin_HasEicarHashes()
    {
        Assert.True(HashList.Builtin.TryMatch(Eicar.Sha256, out _));
        Assert.True(HashList.Builtin.TryMatch(Eicar.Sha1, out _));
        Assert.True(HashList.Builtin.TryMatch(Eicar.Md5, out _));
    }

    [Fact]
    public void Load_MissingFile_ThrowsVigilExceptionNamingIt()
    {
        var ex = Assert.Throws<VigilException>(() => HashList.Load("/nonexistent/list.txt"));
        Assert.Contains("/nonexistent/list.txt", ex.Message, StringComparison.Ordinal);
    }
}
