using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vigil.Core.Hashing;
using Vigil.Core.Native;

namespace Vigil.Intel.Files;

/// <summary>
/// Opens a file for reading only when it is a regular file reached without following a symbolic link in any
/// component of its path (openat2 with <c>RESOLVE_NO_SYMLINKS</c>, see <see cref="NoSymlinkOpen"/>: a watched
/// directory swapped for a symlink cannot redirect the reader; <c>O_NONBLOCK</c> so a FIFO planted in its place cannot
/// hang it), and hashes it. Expected failures are returned as text, never thrown.
/// </summary>
internal static class RegularFile
{
    /// <summary>The reason given for a FIFO, socket, device or directory.</summary>
    public const string NotRegularFile = "not a regular file";

    private const int BufferSize = 128 * 1024;

    [ThreadStatic]
    private static ContentHasher? t_hasher;

    /// <summary>A read-only stream on <paramref name="path"/>, or null and the reason.</summary>
    public static FileStream? TryOpen(string path, out string? error) =>
        TryOpenHandle(path, out error) is { } handle ? new FileStream(handle, FileAccess.Read, bufferSize: 0) : null;

    /// <summary>
    /// The descriptor alone (open, fstat; a FileStream around it would add three lseeks), or null and the reason.
    /// </summary>
    public static SafeFileHandle? TryOpenHandle(string path, out string? error) => TryOpenHandle(path, out error, out _);

    /// <summary><see cref="TryOpenHandle(string, out string?)"/>, with the size fstat gave.</summary>
    public static SafeFileHandle? TryOpenHandle(string path, out string? error, out long length)
    {
        length = -1;
        var handle = NoSymlinkOpen.TryOpen(path, LibC.O_RDONLY | LibC.O_NONBLOCK | LibC.O_NOFOLLOW, out var errno);
        if (handle is null)
        {
            error = errno == LibC.ELOOP ? NoSymlinkOpen.DescribeLoop(path) : LibC.Describe(errno);
            return null;
        }

        if (LibC.FStat(handle.Fd(), out var stat) != 0)
        {
            error = LibC.Describe(Marshal.GetLastPInvokeError());
            handle.Dispose();
            return null;
        }

        if (!stat.IsRegularFile)
        {
            error = NotRegularFile;
            handle.Dispose();
            return null;
        }

        error = null;
        length = stat.Size;
        return handle;
    }

    /// <summary>
    /// The requested digests of the file in one pass of pread on this thread (a scan hashes on several threads at
    /// once; a digest context and a buffer are kept per thread), or null and the reason.
    /// </summary>
    public static (ContentHashes? Digest, string? Error) TryHash(string path, HashKinds kinds)
    {
        using var handle = TryOpenHandle(path, out var error, out var length);
        if (handle is null)
        {
            return (null, error);
        }

        return TryHash(handle, kinds, length);
    }

    /// <summary>
    /// The requested digests of an open file, in one pass of pread on this thread, or null and the reason;
    /// <paramref name="length"/> is the size fstat gave, when known (-1: read to the end).
    /// </summary>
    public static (ContentHashes? Digest, string? Error) TryHash(SafeFileHandle handle, HashKinds kinds, long length = -1)
    {
        try
        {
            return ((t_hasher ??= new ContentHasher(BufferSize)).Hash(handle, kinds, length), null);
        }
        catch (IOException ex)
        {
            return (null, ex.Message);
        }
    }

    /// <summary>MD5, SHA-1 and SHA-256 of the file in one pass, or null and the reason.</summary>
    public static async Task<(FileHashes? Digest, string? Error)> TryHashAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = TryOpen(path, out var error);
        if (stream is null)
        {
            return (null, error);
        }

        try
        {
            return (await HashAsync(stream, cancellationToken), null);
        }
        catch (IOException ex)
        {
            return (null, ex.Message);
        }
    }

    /// <summary>MD5, SHA-1 and SHA-256 of <paramref name="stream"/> from its position to its end, in one read.</summary>
    public static Task<FileHashes> HashAsync(Stream stream, CancellationToken cancellationToken) =>
        FileHashes.ComputeAsync(stream, BufferSize, cancellationToken);
}
