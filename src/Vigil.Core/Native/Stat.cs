using System.Runtime.InteropServices;

namespace Vigil.Core.Native;

/// <summary>A <c>struct timespec</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TimeSpec
{
    public long Seconds;
    public long Nanoseconds;
}

/// <summary>The x86_64 <c>struct stat</c> (144 bytes), as fstat(2) and fstatat(2) fill it.</summary>
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

    public readonly bool IsSymlink => (Mode & LibC.S_IFMT) == LibC.S_IFLNK;

    public readonly bool IsSameInode(in Stat other) => Dev == other.Dev && Ino == other.Ino;

    /// <summary>A word for the file type, for messages.</summary>
    public readonly string TypeName => FileTypeName(Mode);

    /// <summary>A word for the file type in <paramref name="mode"/>, for messages.</summary>
    public static string FileTypeName(uint mode) => (mode & LibC.S_IFMT) switch
    {
        LibC.S_IFREG => "regular file",
        LibC.S_IFDIR => "directory",
        LibC.S_IFLNK => "symbolic link",
        LibC.S_IFIFO => "fifo",
        LibC.S_IFCHR => "character device",
        LibC.S_IFBLK => "block device",
        LibC.S_IFSOCK => "socket",
        _ => "unknown file type",
    };
}

/// <summary>A <c>struct statx_timestamp</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct StatxTimestamp
{
    public long Seconds;
    public uint Nanoseconds;
    public int Reserved;
}

/// <summary>The <c>struct statx</c> of statx(2): the same layout on every Linux architecture, unlike struct stat.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct StatxBuffer
{
    public uint Mask;
    public uint BlockSize;
    public ulong Attributes;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public ushort Mode;
    public ushort Pad1;
    public ulong Ino;
    public ulong Size;
    public ulong Blocks;
    public ulong AttributesMask;
    public StatxTimestamp Atime;
    public StatxTimestamp Btime;
    public StatxTimestamp Ctime;
    public StatxTimestamp Mtime;
    public uint RdevMajor;
    public uint RdevMinor;
    public uint DevMajor;
    public uint DevMinor;
    public fixed ulong Spare[14];
}
