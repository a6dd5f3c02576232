using System.Runtime.InteropServices;

namespace Vigil.Core.Native;

/// <summary>What statx(2) says about one path; <see cref="Mode"/> holds the type and permission bits.</summary>
internal readonly record struct FileStatus(
    uint Mode, long Size, uint Uid, uint Gid, ulong Inode, ulong Device, uint Links, long MtimeSeconds, long MtimeNanos, long CtimeSeconds, long CtimeNanos)
{
    public bool IsRegularFile => (Mode & LibC.S_IFMT) == LibC.S_IFREG;

    public bool IsDirectory => (Mode & LibC.S_IFMT) == LibC.S_IFDIR;

    public bool IsSymlink => (Mode & LibC.S_IFMT) == LibC.S_IFLNK;

    /// <summary>Whether content or metadata may differ between two looks (a change of inode, size, mtime, ctime or mode).</summary>
    public bool SameVersionAs(FileStatus other) =>
        Inode == other.Inode && Device == other.Device && Size == other.Size && Mode == other.Mode
        && MtimeSeconds == other.MtimeSeconds && MtimeNanos == other.MtimeNanos
        && CtimeSeconds == other.CtimeSeconds && CtimeNanos == other.CtimeNanos;

    /// <summary>Whether both describe the same file (device and inode), whatever its version.</summary>
    public bool IsSameFileAs(FileStatus other) => Inode == other.Inode && Device == other.Device;

    /// <summary>lstat (or stat when following links); null with the errno when the path cannot be examined.</summary>
    public static unsafe FileStatus? TryGet(string path, bool followLinks, out int errno)
    {
        StatxBuffer buffer;
        var flags = followLinks ? 0 : LibC.AT_SYMLINK_NOFOLLOW;
        if (LibC.Statx(LibC.AT_FDCWD, path, flags, LibC.STATX_BASIC_STATS, &buffer) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return From(buffer);
    }

    public static FileStatus? TryGet(string path, bool followLinks) => TryGet(path, followLinks, out _);

    /// <summary>fstat of an open file (statx with AT_EMPTY_PATH: no path lookup); null when it fails.</summary>
    public static unsafe FileStatus? TryGet(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        StatxBuffer buffer;
        var isAdded = false;
        try
        {
            handle.DangerousAddRef(ref isAdded);
            if (LibC.Statx((int)handle.DangerousGetHandle(), "", LibC.AT_EMPTY_PATH, LibC.STATX_BASIC_STATS, &buffer) != 0)
            {
                return null;
            }
        }
        finally
        {
            if (isAdded)
            {
                handle.DangerousRelease();
            }
        }

        return From(buffer);
    }

    private static FileStatus From(in StatxBuffer buffer) => new(
        buffer.Mode, (long)buffer.Size, buffer.Uid, buffer.Gid, buffer.Ino, LibC.MakeDev(buffer.DevMajor, buffer.DevMinor),
        buffer.Nlink, buffer.Mtime.Seconds, buffer.Mtime.Nanoseconds, buffer.Ctime.Seconds, buffer.Ctime.Nanoseconds);

    /// <summary>The 9-character <c>rwxrwxrwx</c> string with s/S and t/T bits, as Wazuh's <c>agent_file_perm</c> writes it.</summary>
    public static string PermissionString(uint mode)
    {
        Span<char> p = stackalloc char[9];
        p[0] = (mode & 0x100) != 0 ? 'r' : '-';
        p[1] = (mode & 0x80) != 0 ? 'w' : '-';
        p[2] = Exec(mode & 0x40, mode & 0x800, 's');
        p[3] = (mode & 0x20) != 0 ? 'r' : '-';
        p[4] = (mode & 0x10) != 0 ? 'w' : '-';
        p[5] = Exec(mode & 0x8, mode & 0x400, 's');
        p[6] = (mode & 0x4) != 0 ? 'r' : '-';
        p[7] = (mode & 0x2) != 0 ? 'w' : '-';
        p[8] = Exec(mode & 0x1, mode & 0x200, 't');
        return new string(p);

        static char Exec(uint exec, uint special, char letter) =>
            special != 0 ? (exec != 0 ? letter : char.ToUpperInvariant(letter)) : exec != 0 ? 'x' : '-';
    }
}
