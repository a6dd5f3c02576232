using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vigil.Core.Configuration;
using Vigil.Core.Hashing;
using Vigil.Core.Native;
using Vigil.Fim.Baseline;
using Vigil.Fim.Native;

namespace Vigil.Fim.Scanning;

/// <summary>Opens a file for hashing; a seam so tests can make a file unreadable even for root.</summary>
internal interface IFileOpener
{
    /// <summary>
    /// Opens <paramref name="path"/> to read it; without <paramref name="followSymbolicLink"/> a symbolic link at the
    /// path is not followed (the open fails).
    /// </summary>
    public SafeFileHandle Open(string path, bool followSymbolicLink);
}

internal sealed class DefaultFileOpener : IFileOpener
{
    public static readonly DefaultFileOpener Instance = new();

    // open(2) on the path's bytes (PathBytes), so a name that is not valid UTF-8 is read too. O_NONBLOCK: a FIFO put in
    // place of the file between its statx and this open would otherwise hold the hashing thread until some writer
    // opened it (a few such and realtime monitoring stops); reads of a regular file do not change with it.
    // O_NOFOLLOW unless the directory follows symbolic links: a link put in place of the file is not opened at all
    // (opening some devices does something: a tape rewinds, a watchdog starts).
    public SafeFileHandle Open(string path, bool followSymbolicLink)
    {
        var fd = LibC.Open(path, LibC.O_RDONLY | LibC.O_CLOEXEC | LibC.O_NONBLOCK | (followSymbolicLink ? 0 : LibC.O_NOFOLLOW), 0);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw errno == LibC.ENOENT
                ? new FileNotFoundException($"{path}: {LibC.Describe(errno)}", path)
                : errno is 1 or 13 ? new UnauthorizedAccessException($"{path}: {LibC.Describe(errno)}") : new IOException($"{path}: {LibC.Describe(errno)}", errno);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }
}

/// <summary>What looking at one path found.</summary>
internal abstract record Inspection(string Path);

/// <summary>The path exists and was recorded; <see cref="Status"/> is the version the entry describes.</summary>
internal sealed record Inspected(FileEntry Entry, FileStatus Status, string? ReadError) : Inspection(Entry.Path);

/// <summary>Nothing is at the path any more.</summary>
internal sealed record Missing(string Path) : Inspection(Path);

/// <summary>The path exists but is not recorded (a directory, a socket, out of scope).</summary>
internal sealed record NotRecorded(string Path, FileStatus? Status) : Inspection(Path);

/// <summary>
/// Reads one file's attributes and hashes it with a single read feeding every requested digest. The status is taken
/// before and after hashing; when the file changed meanwhile it is read again, so a hash always matches a status.
/// </summary>
internal sealed class FileInspector(long fileMaxSize, IFileOpener opener)
{
    private const int BufferSize = 1 << 20;
    private const int Attempts = 3;

    // One set of digest contexts and one read buffer per hashing thread: creating OpenSSL contexts per file costs more
    // than hashing a small file.
    [ThreadStatic]
    private static ContentHasher? t_hasher;

    public Inspection Inspect(string path, DirectoryOptions directory)
    {
        var follow = directory.FollowSymbolicLink;
        for (var attempt = 1; ; attempt++)
        {
            if (FileStatus.TryGet(path, follow) is not { } before)
            {
                return new Missing(path);
            }

            if (before.IsDirectory || !(before.IsRegularFile || before.IsSymlink))
            {
                return new NotRecorded(path, before);
            }

            string? md5 = null, sha1 = null, sha256 = null, error = null;
            var hashes = directory.Checks & FimChecks.Hashes;
            if (before.IsRegularFile && hashes != 0 && before.Size < fileMaxSize)
            {
                FileStatus? after = null;
                try
                {
                    using var handle = opener.Open(path, follow);

                    // What was opened must be the file the statx saw: a path swapped meanwhile for a link to /dev/zero
                    // would be read for ever, and one swapped for a link to another file would give that file's hashes.
                    if (FileStatus.TryGet(handle) is not { IsRegularFile: true } opened || !opened.IsSameFileAs(before))
                    {
                        if (attempt < Attempts)
                        {
                            continue;
                        }

                        error = $"{path}: replaced by another file while it was opened";
                    }
                    else
                    {
                        (md5, sha1, sha256) = Hash(handle, hashes, before.Size);

                        // The status of what was read, by its descriptor (no second path lookup). A path replaced
                        // since the open is the next event's, and the baseline writer's own look at the path sends
                        // it back here.
                        after = FileStatus.TryGet(handle);
                    }
                }
                catch (FileNotFoundException)
                {
                    return new Missing(path);
                }
                catch (DirectoryNotFoundException)
                {
                    return new Missing(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    error = e.Message;
                }

                after ??= FileStatus.TryGet(path, follow);
                if (after is null)
                {
                    return new Missing(path);
                }

                if (!after.Value.SameVersionAs(before) && attempt < Attempts)
                {
                    continue;
                }

                before = after.Value;
                if (!(before.IsRegularFile || before.IsSymlink))
                {
                    return new NotRecorded(path, before);
                }
            }

            var entry = new FileEntry(
                path, before.Size, FileStatus.PermissionString(before.Mode), before.Uid, before.Gid,
                AccountNames.User(before.Uid), AccountNames.Group(before.Gid), before.MtimeSeconds, before.Inode, before.Device,
                md5, sha1, sha256, directory.Checks);
            return new Inspected(entry, before, error);
        }
    }

    // knownLength: a short read that reaches the size seen before the open is the end (no last read that returns 0);
    // a file that grew meanwhile is read on, and its status after the read sends it round again.
    private static (string?, string?, string?) Hash(SafeFileHandle handle, FimChecks hashes, long knownLength)
    {
        var kinds = ((hashes & FimChecks.Md5) != 0 ? HashKinds.Md5 : HashKinds.None)
            | ((hashes & FimChecks.Sha1) != 0 ? HashKinds.Sha1 : HashKinds.None)
            | ((hashes & FimChecks.Sha256) != 0 ? HashKinds.Sha256 : HashKinds.None);
        var result = (t_hasher ??= new ContentHasher(BufferSize)).Hash(handle, kinds, knownLength);
        return (result.Md5, result.Sha1, result.Sha256);
    }
}
