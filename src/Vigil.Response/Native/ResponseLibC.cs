using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using Vigil.Core.Native;

namespace Vigil.Response.Native;

/// <summary>
/// The libc calls only the remover and the quarantine need (atomic no-replace renames, fd-relative unlink and mkdir,
/// ownership, mode and times, locks); the shared ones are in <see cref="Core.Native.LibC"/> (Linux x86_64 values).
/// </summary>
internal static partial class ResponseLibC
{
    private const string Lib = "libc";

    public const uint RENAME_NOREPLACE = 1;

    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;

    [LibraryImport(Lib, EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RenameAt2(int oldDirFd, [MarshalUsing(typeof(PathMarshaller))] string oldPath, int newDirFd, [MarshalUsing(typeof(PathMarshaller))] string newPath, uint flags);

    [LibraryImport(Lib, EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int UnlinkAt(int dirFd, [MarshalUsing(typeof(PathMarshaller))] string path, int flags);

    [LibraryImport(Lib, EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MkdirAt(int dirFd, [MarshalUsing(typeof(PathMarshaller))] string path, uint mode);

    [LibraryImport(Lib, EntryPoint = "fchmod", SetLastError = true)]
    public static partial int FChmod(int fd, uint mode);

    [LibraryImport(Lib, EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Chmod([MarshalUsing(typeof(PathMarshaller))] string path, uint mode);

    [LibraryImport(Lib, EntryPoint = "fchown", SetLastError = true)]
    public static partial int FChown(int fd, uint uid, uint gid);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, ReadOnlySpan<byte> buffer, nuint count);

    [LibraryImport(Lib, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport(Lib, EntryPoint = "geteuid")]
    public static partial uint Geteuid();
}
