using System.Buffers;
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
            // The text is written as UTF-8 straight into a buffer sized for its longest form (on the stack unless the
            // names are very long): this runs twice for each event, for its row and its message.
            var longest = 5 * 20 + 11 + Encoding.UTF8.GetMaxByteCount(
                Perm.Length + UserName.Length + GroupName.Length + (Md5?.Length ?? 0) + (Sha1?.Length ?? 0) + (Sha256?.Length ?? 0));
            byte[]? rented = null;
            var buffer = longest <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(longest));
            try
            {
                var text = new ChecksumText(buffer);
                var c = Checks;
                text.Append(Size, Has(FimChecks.Size));
                text.Append(Has(FimChecks.Permissions) ? Perm : null);
                text.Append((string?)null); // attributes: Windows only
                text.Append(Uid, Has(FimChecks.Owner));
                text.Append(Gid, Has(FimChecks.Group));
                text.Append(Has(FimChecks.Owner) ? UserName : null);
                text.Append(Has(FimChecks.Group) ? GroupName : null);
                text.Append(Mtime, Has(FimChecks.Mtime));
                text.Append(Inode, Has(FimChecks.Inode));
                text.Append(Has(FimChecks.Md5) ? Md5 : null);
                text.Append(Has(FimChecks.Sha1) ? Sha1 : null);
                text.Append(Has(FimChecks.Sha256) ? Sha256 : null);

                Span<byte> digest = stackalloc byte[SHA1.HashSizeInBytes];
                SHA1.HashData(text.Written, digest);
                return Convert.ToHexStringLower(digest);

                bool Has(FimChecks check) => (c & check) != 0;
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
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

/// <summary>The checksum's fields as UTF-8, ':' between them, into a buffer large enough for all of them.</summary>
internal ref struct ChecksumText(Span<byte> buffer)
{
    private readonly Span<byte> _buffer = buffer;
    private int _length;
    private bool _first = true;

    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    /// <summary>A text field; null writes it empty.</summary>
    public void Append(string? value)
    {
        Separate();
        if (value is not null)
        {
            _length += Encoding.UTF8.GetBytes(value, _buffer[_length..]);
        }
    }

    /// <summary>A number field; written empty when not <paramref name="included"/>.</summary>
    public void Append<T>(T value, bool included)
        where T : IUtf8SpanFormattable
    {
        Separate();
        if (included)
        {
            value.TryFormat(_buffer[_length..], out var written, default, System.Globalization.CultureInfo.InvariantCulture);
            _length += written;
        }
    }

    private void Separate()
    {
        if (!_first)
        {
            _buffer[_length++] = (byte)':';
        }

        _first = false;
    }
}
