using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vigil.Core.Native;

/// <summary>Small helpers over raw file descriptors owned by <see cref="SafeFileHandle"/>.</summary>
internal static class FileDescriptor
{
    public static int Fd(this SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    /// <summary>openat(2), retried on EINTR; throws <see cref="NativeIOException"/> on failure.</summary>
    public static SafeFileHandle OpenAt(SafeFileHandle? dir, string name, int flags, uint mode, string pathForMessages)
    {
        var handle = TryOpenAt(dir, name, flags, mode, out var errno);
        return handle ?? throw new NativeIOException("open", pathForMessages, errno);
    }

    /// <summary>openat(2), retried on EINTR; null and the errno on failure.</summary>
    public static SafeFileHandle? TryOpenAt(SafeFileHandle? dir, string name, int flags, uint mode, out int errno)
    {
        while (true)
        {
            var fd = LibC.OpenAt(dir is null ? LibC.AT_FDCWD : dir.Fd(), name, flags | LibC.O_CLOEXEC, mode);
            errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
            if (fd >= 0)
            {
                return new SafeFileHandle(fd, ownsHandle: true);
            }

            if (errno != LibC.EINTR)
            {
                return null;
            }
        }
    }

    public static Stat FStat(SafeFileHandle handle, string pathForMessages)
    {
        if (LibC.FStat(handle.Fd(), out var stat) != 0)
        {
            throw new NativeIOException("fstat", pathForMessages, Marshal.GetLastPInvokeError());
        }

        return stat;
    }

    /// <summary>fstatat(2) without following a final symlink; null and the errno when it fails.</summary>
    public static Stat? TryLStatAt(SafeFileHandle dir, string name, out int errno)
    {
        if (LibC.FStatAt(dir.Fd(), name, out var stat, LibC.AT_SYMLINK_NOFOLLOW) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        return stat;
    }

    public static void Check(int result, string operation, string pathForMessages)
    {
        if (result != 0)
        {
            throw new NativeIOException(operation, pathForMessages, Marshal.GetLastPInvokeError());
        }
    }
}
