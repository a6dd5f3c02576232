using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Vigil.Response.Native;

/// <summary>MD5, SHA-1 and SHA-256 of one open file, in lowercase hex, computed in one read.</summary>
internal sealed record FileHashes(string Md5, string Sha1, string Sha256, long Length)
{
    /// <summary>Hashes the file behind <paramref name="handle"/> from offset 0 with pread, so the descriptor's position is irrelevant.</summary>
    public static FileHashes Compute(SafeFileHandle handle)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long offset = 0;
            int read;
            while ((read = RandomAccess.Read(handle, buffer, offset)) > 0)
            {
                var chunk = buffer.AsSpan(0, read);
                md5.AppendData(chunk);
                sha1.AppendData(chunk);
                sha256.AppendData(chunk);
                offset += read;
            }

            return new FileHashes(
                Convert.ToHexStringLower(md5.GetHashAndReset()),
                Convert.ToHexStringLower(sha1.GetHashAndReset()),
                Convert.ToHexStringLower(sha256.GetHashAndReset()),
                offset);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Copies <paramref name="source"/> from offset 0 into <paramref name="destination"/> and fsyncs it.</summary>
    public static void CopyAndSync(SafeFileHandle source, SafeFileHandle destination, string destinationForMessages)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long offset = 0;
            int read;
            while ((read = RandomAccess.Read(source, buffer, offset)) > 0)
            {
                RandomAccess.Write(destination, buffer.AsSpan(0, read), offset);
                offset += read;
            }

            FileDescriptor.Check(LibC.FSync(destination.Fd()), "fsync", destinationForMessages);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
