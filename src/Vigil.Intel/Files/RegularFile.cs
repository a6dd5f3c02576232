using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Vigil.Intel.Files;

/// <summary>The hashes and size of one file's content, read through one descriptor.</summary>
internal sealed record FileDigest(string Md5, string Sha1, string Sha256, long Size);

/// <summary>
/// Opens a file for reading only when it is a regular file reached without following a symbolic link in its last
/// component (<c>O_NOFOLLOW</c>; <c>O_NONBLOCK</c> so a FIFO planted in its place cannot hang the reader), and
/// hashes it. Expected failures are returned as text, never thrown.
/// </summary>
internal static partial class RegularFile
{
    private const int O_RDONLY = 0;
    private const int O_NONBLOCK = 0x800;
    private const int O_NOFOLLOW = 0x20000;
    private const int O_CLOEXEC = 0x80000;
    private const int EINTR = 4;
    private const int ELOOP = 40;
    private const uint S_IFMT = 0xF000;
    private const uint S_IFREG = 0x8000;

    /// <summary>The reason given for a FIFO, socket, device or directory.</summary>
    public const string NotRegularFile = "not a regular file";

    /// <summary>A read-only stream on <paramref name="path"/>, or null and the reason.</summary>
    public static FileStream? TryOpen(string path, out string? error)
    {
        int fd;
        int errno;
        do
        {
            fd = Open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, 0);
            errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
        while (fd < 0 && errno == EINTR);

        if (fd < 0)
        {
            error = errno == ELOOP ? "symbolic link (not followed)" : Describe(errno);
            return null;
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (FStat(fd, out var stat) != 0)
        {
            error = Describe(Marshal.GetLastPInvokeError());
            handle.Dispose();
            return null;
        }

        if ((stat.Mode & S_IFMT) != S_IFREG)
        {
            error = NotRegularFile;
            handle.Dispose();
            return null;
        }

        error = null;
        return new FileStream(handle, FileAccess.Read, bufferSize: 0);
    }

    /// <summary>MD5, SHA-1 and SHA-256 of the file in one pass, or null and the reason.</summary>
    public static async Task<(FileDigest? Digest, string? Error)> TryHashAsync(string path, CancellationToken cancellationToken)
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

    public static async Task<FileDigest> HashAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[128 * 1024];
        long size = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            md5.AppendData(buffer, 0, read);
            sha1.AppendData(buffer, 0, read);
            sha256.AppendData(buffer, 0, read);
            size += read;
        }

        return new FileDigest(
            Convert.ToHexStringLower(md5.GetHashAndReset()),
            Convert.ToHexStringLower(sha1.GetHashAndReset()),
            Convert.ToHexStringLower(sha256.GetHashAndReset()),
            size);
    }

    private static string Describe(int errno) => Marshal.PtrToStringUTF8(StrError(errno)) ?? $"errno {errno}";

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static partial int FStat(int fd, out Stat stat);

    [LibraryImport("libc", EntryPoint = "strerror")]
    private static partial IntPtr StrError(int errnum);

    /// <summary>The x86_64 <c>struct stat</c> (144 bytes); only the mode is read.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 144)]
    private struct Stat
    {
        public ulong Dev;
        public ulong Ino;
        public ulong NLink;
        public uint Mode;
    }
}
