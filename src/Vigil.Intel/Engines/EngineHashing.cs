using Microsoft.Win32.SafeHandles;
using Vigil.Core.Hashing;

namespace Vigil.Intel.Engines;

/// <summary>
/// The SHA-256 an engine's verdict cache is asked with, and nothing more: MD5 and SHA-1 are computed only for a file
/// something is said of (a cache miss is scanned anyway, a hit on a clean verdict says nothing). The digest contexts
/// and the buffer are kept per thread, since creating them costs as much as hashing a small file.
/// </summary>
internal static class EngineHashing
{
    private const int BufferSize = 128 * 1024;

    [ThreadStatic]
    private static ContentHasher? t_hasher;

    /// <summary>SHA-256 and length of the file behind <paramref name="handle"/>, read from offset 0 with pread.</summary>
    public static (string Sha256, long Length) Sha256(SafeFileHandle handle)
    {
        var hashes = (t_hasher ??= new ContentHasher(BufferSize)).Hash(handle, HashKinds.Sha256);
        return (hashes.Sha256!, hashes.Length);
    }

    /// <summary>Every digest (MD5, SHA-1, SHA-256) in one read, for a message about the file.</summary>
    public static FileHashes All(SafeFileHandle handle)
    {
        var hashes = (t_hasher ??= new ContentHasher(BufferSize)).Hash(handle, HashKinds.All);
        return new FileHashes(hashes.Md5!, hashes.Sha1!, hashes.Sha256!, hashes.Length);
    }
}
