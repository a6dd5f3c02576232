using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using Vigil.Core.Native;

namespace Vigil.Fim.Native;

/// <summary>
/// The libc calls only FIM needs (inotify, poll, nice, passwd/group lookups); the shared ones are in
/// <see cref="Core.Native.LibC"/>.
/// </summary>
internal static unsafe partial class FimLibC
{
    private const string Lib = "libc";

    public const int IN_NONBLOCK = 0x800;
    public const int IN_CLOEXEC = 0x80000;

    public const uint IN_ATTRIB = 0x4;
    public const uint IN_CLOSE_WRITE = 0x8;
    public const uint IN_MOVED_FROM = 0x40;
    public const uint IN_MOVED_TO = 0x80;
    public const uint IN_CREATE = 0x100;
    public const uint IN_DELETE = 0x200;
    public const uint IN_DELETE_SELF = 0x400;
    public const uint IN_MOVE_SELF = 0x800;
    public const uint IN_Q_OVERFLOW = 0x4000;
    public const uint IN_IGNORED = 0x8000;
    public const uint IN_ONLYDIR = 0x01000000;
    public const uint IN_DONT_FOLLOW = 0x02000000;
    public const uint IN_EXCL_UNLINK = 0x04000000;
    public const uint IN_ISDIR = 0x40000000;

    public const short POLLIN = 0x1;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int inotify_init1(int flags);

    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int inotify_add_watch(int fd, [MarshalUsing(typeof(PathMarshaller))] string path, uint mask);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int inotify_rm_watch(int fd, int wd);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int setpriority(int which, int who, int prio);

    [LibraryImport(Lib)]
    public static partial int gettid();

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int getpwuid_r(uint uid, byte* pwd, byte* buffer, nuint length, byte** result);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int getgrgid_r(uint gid, byte* grp, byte* buffer, nuint length, byte** result);
}
