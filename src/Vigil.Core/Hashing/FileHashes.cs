using Microsoft.Win32.SafeHandles;

namespace Vigil.Core.Hashing;

/// <summary>MD5, SHA-1 and SHA-256 of one content, in lowercase hex, with its length; computed in one read.</summary>
internal sealed record FileHashes(string Md5, string Sha1, string Sha256, long Length)
{
    /// <summary>Hashes the file behind <paramref name="handle"/> from offset 0 with pread, so the descriptor's position is irrelevant.</summary>
    public static FileHashes Compute(SafeFileHandle handle, int bufferSize)
    {
        using var hasher = new ContentHasher(bufferSize);
        return From(hasher.Hash(handle, HashKinds.All));
    }

    /// <summary>Hashes <paramref name="stream"/> from its current position to its end.</summary>
    public static async Task<FileHashes> ComputeAsync(Stream stream, int bufferSize, CancellationToken cancellationToken)
    {
        using var hasher = new ContentHasher(bufferSize);
        return From(await hasher.HashAsync(stream, HashKinds.All, cancellationToken));
    }

    private static FileHashes From(ContentHashes hashes) => new(hashes.Md5!, hashes.Sha1!, hashes.Sha256!, hashes.Length);
}
