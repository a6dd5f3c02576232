using System.Security.Cryptography;
using System.Text;
using Vigil.Core.Configuration;

namespace Vigil.Fim.Baseline;

/// <summary>
/// The recorded state of one file (a row of the baseline). Hashes are null when the content was not hashed: a hash
/// check is off, the entry is not a regular file, the file is at or over file_max_size, or it could not be read.
/// </summary>
internal sealed record FileEntry(
    string Path,
    long Size,
    string Perm,
    uint Uid,
    uint Gid,
    string UserName,
    string GroupName,
    long Mtime,
    ulong Inode,
    ulong Device,
    string? Md5,
    string? Sha1,
    string? Sha256,
    FimChecks Checks)
{
    /// <summary>Wazuh's checksum: SHA-1 of <c>size:perm:attributes:uid:gid:user_name:group_name:mtime:inode:md5:sha1:sha256</c>.</summary>
    public string Checksum
    {
        get
        {
            var c = Checks;
            var text = string.Join(':',
                Has(FimChecks.Size) ? Size.ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
                Has(FimChecks.Permissions) ? Perm : "",
                "",
                Has(FimChecks.Owner) ? Uid.ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
                Has(FimChecks.Group) ? Gid.ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
                Has(FimChecks.Owner) ? UserName : "",
                Has(FimChecks.Group) ? GroupName : "",
                Has(FimChecks.Mtime) ? Mtime.ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
                Has(FimChecks.Inode) ? Inode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
                Has(FimChecks.Md5) ? Md5 ?? "" : "",
                Has(FimChecks.Sha1) ? Sha1 ?? "" : "",
                Has(FimChecks.Sha256) ? Sha256 ?? "" : "");
            return Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(text)));

            bool Has(FimChecks check) => (c & check) != 0;
        }
    }

    /// <summary>
    /// Wazuh's changed_attributes names for what differs under the checks in force now. A hash that was never recorded
    /// under a check (the check was just turned on) is not a change; one that was recorded as missing is.
    /// </summary>
    public IReadOnlyList<string> ChangedFrom(FileEntry old)
    {
        var changed = new List<string>();
        var c = Checks;
        Add(FimChecks.Size, "size", Size != old.Size);
        Add(FimChecks.Permissions, "permission", Perm != old.Perm);
        Add(FimChecks.Owner, "uid", Uid != old.Uid);
        Add(FimChecks.Group, "gid", Gid != old.Gid);
        Add(FimChecks.Owner, "user_name", UserName != old.UserName);
        Add(FimChecks.Group, "group_name", GroupName != old.GroupName);
        Add(FimChecks.Inode, "inode", Inode != old.Inode);
        Add(FimChecks.Mtime, "mtime", Mtime != old.Mtime);
        Add(FimChecks.Md5, "md5", (old.Checks & FimChecks.Md5) != 0 && Md5 != old.Md5);
        Add(FimChecks.Sha1, "sha1", (old.Checks & FimChecks.Sha1) != 0 && Sha1 != old.Sha1);
        Add(FimChecks.Sha256, "sha256", (old.Checks & FimChecks.Sha256) != 0 && Sha256 != old.Sha256);
        return changed;

        void Add(FimChecks check, string name, bool differs)
        {
            if ((c & check) != 0 && (old.Checks & check) != 0 && differs)
            {
                changed.Add(name);
            }
        }
    }
}
