using System.Runtime.InteropServices;

namespace Vigil.Response.Native;

/// <summary>
/// The few libc calls the remover needs and .NET does not offer: opening without following symlinks,
/// fstat, atomic no-replace renames and fd-relative unlink (Linux x86_64 values).
/// Read errno with <see cref="Marshal.GetLastPInvokeError"/> straight after the call: any runtime interop in
/// between can overwrite it.
/// </summary>
internal static partial class LibC
{
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_APPEND = 0x400;
    public const int O_NONBLOCK = 0x800;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_CLOEXEC = 0x80000;
    public const int O_PATH = 0x200000;

    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_EMPTY_PATH = 0x1000;
    public const int AT_REMOVEDIR = 0x200;

    public const uint RENAME_NOREPLACE = 1;

    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;

    public const int EINTR = 4;
    public const int ENOENT = 2;
    public const int EAGAIN = 11;
    public const int EEXIST = 17;
    public const int EXDEV = 18;
    public const int ENOTDIR = 20;
    public const int EROFS = 30;
    public const int ELOOP = 40;

    public const uint S_IFMT = 0xF000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFLNK = 0xA000;

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(int dirFd, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    public static partial int FStat(int fd, out Stat stat);

    [LibraryImport("libc", EntryPoint = "fstatat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int FStatAt(int dirFd, string path, out Stat stat, int flags);

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RenameAt2(int oldDirFd, string oldPath, int newDirFd, string newPath, uint flags);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int UnlinkAt(int dirFd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MkdirAt(int dirFd, string path, uint mode);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    public static partial int FChmod(int fd, uint mode);

    [LibraryImport("libc", EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Chmod(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    public static partial int FChown(int fd, uint uid, uint gid);

    [LibraryImport("libc", EntryPoint = "futimens", SetLastError = true)]
    public static partial int FUtimens(int fd, [In] TimeSpec[] times);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, ReadOnlySpan<byte> buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint Geteuid();

    [LibraryImport("libc", EntryPoint = "strerror")]
    private static partial IntPtr StrError(int errnum);

    /// <summary>The C library's text for an errno value.</summary>
    public static string Describe(int errno) => Marshal.PtrToStringUTF8(StrError(errno)) ?? $"errno {errno}";
}

/// <summary>A <c>struct timespec</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TimeSpec
{
    public long Seconds;
    public long Nanoseconds;
}

/// <summary>The x86_64 <c>struct stat</c> (144 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = 144)]
internal struct Stat
{
    public ulong Dev;
    public ulong Ino;
    public ulong NLink;
    public uint Mode;
    public uint Uid;
    public uint Gid;
    public int Pad0;
    public ulong RDev;
    public long Size;
    public long BlkSize;
    public long Blocks;
    public TimeSpec ATime;
    public TimeSpec MTime;
    public TimeSpec CTime;

    public readonly bool IsRegularFile => (Mode & LibC.S_IFMT) == LibC.S_IFREG;

    public readonly bool IsDirectory => (Mode & LibC.S_IFMT) == LibC.S_IFDIR;

    public readonly bool IsSameInode(in Stat other) => Dev == other.Dev && Ino == other.Ino;

    /// <summary>A word for the file type, for messages.</summary>
    public readonly string TypeName => (Mode & LibC.S_IFMT) switch
    {
        LibC.S_IFREG => "regular file",
        LibC.S_IFDIR => "directory",
        LibC.S_IFLNK => "symbolic link",
        0x1000 => "fifo",
        0x2000 => "character device",
        0x6000 => "block device",
        0xC000 => "socket",
        _ => "unknown file type",
    };
}
