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
            // Written as UTF-8 straight into a buffer on the stack: the text is a few hundred bytes at most, and this
            // runs twice for each event (its row and its message).
            Span<byte> text = stackalloc byte[1024];
            var writer = new ChecksumText(text);
            var c = Checks;
            if (Has(FimChecks.Size))
            {
                writer.Append(Size);
            }

            writer.Separator();
            writer.Append(Has(FimChecks.Permissions) ? Perm : null);
            writer.Separator();
            writer.Separator(); // attributes: Windows only
            if (Has(FimChecks.Owner))
            {
                writer.Append(Uid);
            }

            writer.Separator();
            if (Has(FimChecks.Group))
            {
                writer.Append(Gid);
            }

            writer.Separator();
            writer.Append(Has(FimChecks.Owner) ? UserName : null);
            writer.Separator();
            writer.Append(Has(FimChecks.Group) ? GroupName : null);
            writer.Separator();
            if (Has(FimChecks.Mtime))
            {
                writer.Append(Mtime);
            }

            writer.Separator();
            if (Has(FimChecks.Inode))
            {
                writer.Append(Inode);
            }

            writer.Separator();
            writer.Append(Has(FimChecks.Md5) ? Md5 : null);
            writer.Separator();
            writer.Append(Has(FimChecks.Sha1) ? Sha1 : null);
            writer.Separator();
            writer.Append(Has(FimChecks.Sha256) ? Sha256 : null);

            Span<byte> digest = stackalloc byte[SHA1.HashSizeInBytes];
            SHA1.HashData(writer.Fits ? text[..writer.Length] : Encoding.UTF8.GetBytes(ChecksumTextAsString()), digest);
            return Convert.ToHexStringLower(digest);

            bool Has(FimChecks check) => (c & check) != 0;
        }
    }

    // The same text as a string: for the rare entry whose names do not fit the buffer.
    private string ChecksumTextAsString()
    {
        var c = Checks;
        return string.Join(':',
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

        bool Has(FimChecks check) => (c & check) != 0;
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

/// <summary>Appends the checksum's fields as UTF-8 to a fixed buffer; <see cref="Fits"/> is false once one did not fit.</summary>
internal ref struct ChecksumText(Span<byte> buffer)
{
    private readonly Span<byte> _buffer = buffer;

    public int Length { get; private set; }

    public bool Fits { get; private set; } = true;

    public void Separator() => Append((byte)':');

    public void Append(string? value)
    {
        if (value is null || !Fits)
        {
            return;
        }

        if (Encoding.UTF8.TryGetBytes(value, _buffer[Length..], out var written))
        {
            Length += written;
        }
        else
        {
            Fits = false;
        }
    }

    public void Append<T>(T value)
        where T : IUtf8SpanFormattable
    {
        if (Fits && value.TryFormat(_buffer[Length..], out var written, default, System.Globalization.CultureInfo.InvariantCulture))
        {
            Length += written;
        }
        else
        {
            Fits = false;
        }
    }

    private void Append(byte value)
    {
        if (Fits && Length < _buffer.Length)
        {
            _buffer[Length++] = value;
        }
        else
        {
            Fits = false;
        }
    }
}
