using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace Vigil.Core.Native;

/// <summary>One entry of a directory: its name (as <see cref="PathBytes"/> writes it), whether it is a directory, a symlink.</summary>
/// <remarks>
/// A class: the framework's generic code over it (List, sorting) is then the shared, precompiled code for reference
/// types, where a struct of this assembly has it compiled by the JIT at every start of a one-shot command.
/// </remarks>
internal sealed record DirectoryEntry(string Name, bool IsDirectory, bool IsSymlink);

/// <summary>
/// A directory's entries read with readdir(3): every name the kernel holds, also those that are not valid UTF-8
/// (which .NET's enumeration turns into U+FFFD, naming a file that does not exist).
/// </summary>
internal static unsafe partial class DirectoryEntries
{
    private const byte DtUnknown = 0;
    private const byte DtDir = 4;
    private const byte DtLnk = 10;

    /// <summary>The entries of <paramref name="directory"/> (without . and ..); null when it cannot be opened.</summary>
    public static List<DirectoryEntry>? TryRead(string directory)
    {
        var handle = OpenDir(directory);
        if (handle == 0)
        {
            return null;
        }

        try
        {
            var entries = new List<DirectoryEntry>();
            while (ReadDir(handle) is var entry && entry != null)
            {
                // struct dirent on 64-bit Linux: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
                var type = *((byte*)entry + 18);
                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)entry + 19);
                if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
                {
                    continue;
                }

                var text = PathBytes.FromBytes(name);
                bool isDirectory, isSymlink;
                if (type == DtUnknown)
                {
                    var status = FileStatus.TryGet(Path.Join(directory, text), followLinks: false);
                    isDirectory = status?.IsDirectory == true;
                    isSymlink = status?.IsSymlink == true;
                }
                else
                {
                    isDirectory = type == DtDir;
                    isSymlink = type == DtLnk;
                }

                entries.Add(new DirectoryEntry(text, isDirectory, isSymlink));
            }

            return entries;
        }
        finally
        {
            _ = CloseDir(handle);
        }
    }

    [LibraryImport("libc", EntryPoint = "opendir", SetLastError = true)]
    private static partial nint OpenDir([MarshalUsing(typeof(PathMarshaller))] string path);

    [LibraryImport("libc", EntryPoint = "readdir", SetLastError = true)]
    private static partial void* ReadDir(nint dir);

    [LibraryImport("libc", EntryPoint = "closedir", SetLastError = true)]
    private static partial int CloseDir(nint dir);
}
