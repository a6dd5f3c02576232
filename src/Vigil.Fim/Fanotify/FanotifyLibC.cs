using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using Vigil.Core.Native;

namespace Vigil.Fim.Fanotify;

/// <summary>fanotify(7) on Linux x86_64: the calls and the constants of &lt;linux/fanotify.h&gt; prevention uses.</summary>
internal static unsafe partial class FanotifyLibC
{
    private const string Lib = "libc";

    public const uint FAN_CLOEXEC = 0x1;
    public const uint FAN_NONBLOCK = 0x2;
    public const uint FAN_CLASS_CONTENT = 0x4;

    public const uint FAN_MARK_ADD = 0x1;
    public const uint FAN_MARK_MOUNT = 0x10;
    public const uint FAN_MARK_IGNORED_MASK = 0x20;
    public const uint FAN_MARK_FLUSH = 0x80;

    public const ulong FAN_Q_OVERFLOW = 0x4000;
    public const ulong FAN_OPEN_PERM = 0x10000;
    public const ulong FAN_ACCESS_PERM = 0x20000;
    public const ulong FAN_OPEN_EXEC_PERM = 0x40000;

    public const uint FAN_ALLOW = 0x1;
    public const uint FAN_DENY = 0x2;

    public const int FAN_NOFD = -1;

    /// <summary>FANOTIFY_METADATA_VERSION: the only layout this parser reads.</summary>
    public const byte MetadataVersion = 3;

    /// <summary>sizeof(struct fanotify_event_metadata).</summary>
    public const int MetadataSize = 24;

    public const int O_LARGEFILE = 0x8000;

    public const int EPERM = 1;
    public const int EINVAL = 22;
    public const int ENOSYS = 38;

    public const short POLLIN = 0x1;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Response
    {
        public int Fd;
        public uint Answer;
    }

    [LibraryImport(Lib, EntryPoint = "fanotify_init", SetLastError = true)]
    public static partial int Init(uint flags, uint eventFileFlags);

    [LibraryImport(Lib, EntryPoint = "fanotify_mark", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mark(int fd, uint flags, ulong mask, int dirFd, [MarshalUsing(typeof(PathMarshaller))] string? path);

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport(Lib, EntryPoint = "readlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint ReadLink([MarshalUsing(typeof(PathMarshaller))] string path, byte* buffer, nuint size);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>The target of a symlink such as /proc/self/fd/N or /proc/PID/exe; null when it cannot be read.</summary>
    public static string? TryReadLink(string path)
    {
        Span<byte> buffer = stackalloc byte[4096];
        nint length;
        fixed (byte* pointer = buffer)
        {
            length = ReadLink(path, pointer, (nuint)buffer.Length);
        }

        return length <= 0 || length >= buffer.Length ? null : PathBytes.FromBytes(buffer[..(int)length]);
    }
}
