using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vigil.Core.Native;

/// <summary>
/// Opens a path with no symbolic link in <em>any</em> of its components: openat2(2) with <c>RESOLVE_NO_SYMLINKS</c>
/// (Linux 5.6+), so a directory of the path swapped for a symlink after an event cannot redirect the reader elsewhere
/// (the file's last component alone is what <c>O_NOFOLLOW</c> guards). A kernel without openat2 (<c>ENOSYS</c>) gets
/// openat(2) with the flags as given, as before. Failures come back as the errno (<c>ELOOP</c> for a symlink
/// anywhere in the path), never thrown.
/// </summary>
internal static unsafe partial class NoSymlinkOpen
{
    public const int ENOSYS = 38;

    // openat2 has one number on x86_64 and aarch64 (the syscall table shared since 5.x): 437.
    private const long SysOpenat2 = 437;
    private const ulong ResolveNoSymlinks = 0x04;
    private static volatile bool s_unavailable;

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long dirFd, byte* path, OpenHow* how, nuint size);

    /// <summary>Whether the last open used openat2 (false once a kernel said ENOSYS: every later open is openat).</summary>
    public static bool IsAvailable => !s_unavailable;

    /// <summary>
    /// <paramref name="path"/> opened with <paramref name="flags"/> (<c>O_CLOEXEC</c> added), no symlink followed in
    /// any component; null and the errno on failure. Retried on EINTR.
    /// </summary>
    public static SafeFileHandle? TryOpen(string path, int flags, out int errno) => TryOpen(path, flags, s_unavailable, out errno);

    /// <summary>As <see cref="TryOpen(string, int, out int)"/>; with <paramref name="fallback"/>, openat as on a kernel without openat2.</summary>
    internal static SafeFileHandle? TryOpen(string path, int flags, bool fallback, out int errno)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (fallback)
        {
            return FileDescriptor.TryOpenAt(null, path, flags, 0, out errno);
        }

        // The bytes the text stands for (a name that is not UTF-8 is written with \xNN escapes, see PathBytes), NUL-terminated.
        var raw = PathBytes.ToBytes(path);
        var bytes = new byte[raw.Length + 1];
        raw.CopyTo(bytes, 0);
        var how = new OpenHow { Flags = (ulong)(uint)(flags | LibC.O_CLOEXEC), Mode = 0, Resolve = ResolveNoSymlinks };
        while (true)
        {
            long fd;
            fixed (byte* p = bytes)
            {
                fd = Syscall(SysOpenat2, LibC.AT_FDCWD, p, &how, (nuint)sizeof(OpenHow));
            }

            errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
            if (fd >= 0)
            {
                return new SafeFileHandle((nint)fd, ownsHandle: true);
            }

            if (errno == ENOSYS)
            {
                s_unavailable = true;
                return FileDescriptor.TryOpenAt(null, path, flags, 0, out errno);
            }

            if (errno != LibC.EINTR)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// What an ELOOP from <see cref="TryOpen(string, int, out int)"/> means for <paramref name="path"/>: the file itself is a symbolic link,
    /// or a directory on its way is (looked at after the fact, for the message only).
    /// </summary>
    public static string DescribeLoop(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            for (var d = System.IO.Path.GetDirectoryName(path); d is not null; d = System.IO.Path.GetDirectoryName(d))
            {
                if (new DirectoryInfo(d).LinkTarget is not null)
                {
                    return $"a directory in its path is a symbolic link ({d}, not followed)";
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone or unreadable since: the errno alone says it.
        }

        return "symbolic link (not followed)";
    }
}
