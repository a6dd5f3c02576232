using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Vigil.Core.Native;

namespace Vigil.Core.Hashing;

/// <summary>
/// Reads a content once and feeds every requested digest (MD5, SHA-1, SHA-256) from the same buffer. The digest
/// contexts and the buffer are kept between calls, so one instance may be reused (per thread: it is not thread-safe,
/// and one call must finish before the next starts).
/// </summary>
internal sealed class ContentHasher(int bufferSize) : IDisposable
{
    private readonly int _bufferSize = bufferSize > 0 ? bufferSize : throw new ArgumentOutOfRangeException(nameof(bufferSize));
    private byte[]? _buffer;
    private IncrementalHash? _md5;
    private IncrementalHash? _sha1;
    private IncrementalHash? _sha256;

    /// <summary>Hashes the file behind <paramref name="handle"/> from offset 0 with pread, so the descriptor's position is irrelevant.</summary>
    /// <param name="handle">The file.</param>
    /// <param name="kinds">The digests to compute.</param>
    /// <param name="knownLength">
    /// The file's size from an fstat just before, or -1: a short read that reaches it is the end (no last pread that
    /// returns 0); a file that grew since is read on to its end as without it.
    /// </param>
    public ContentHashes Hash(SafeFileHandle handle, HashKinds kinds, long knownLength = -1)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var buffer = Buffer();
        Select(kinds, out var md5, out var sha1, out var sha256);
        long offset = 0;
        int read;
        var isAdded = false;
        try
        {
            // pread(2) itself: RandomAccess.Read first asks the descriptor whether it can seek (an lseek per file).
            handle.DangerousAddRef(ref isAdded);
            var fd = (int)handle.DangerousGetHandle();
            while ((read = PRead(fd, buffer.Span, offset)) > 0)
            {
                Append(md5, sha1, sha256, buffer.Span[..read]);
                offset += read;
                if (read < buffer.Length && knownLength >= 0 && offset >= knownLength)
                {
                    break;
                }
            }
        }
        catch
        {
            Reset(md5, sha1, sha256);
            throw;
        }
        finally
        {
            if (isAdded)
            {
                handle.DangerousRelease();
            }
        }

        return Finish(md5, sha1, sha256, offset);
    }

    /// <summary>One pread(2), retried on EINTR; an error is an <see cref="IOException"/>, as RandomAccess gives it.</summary>
    private static unsafe int PRead(int fd, Span<byte> buffer, long offset)
    {
        fixed (byte* start = buffer)
        {
            while (true)
            {
                var read = LibC.PRead(fd, start, (nuint)buffer.Length, offset);
                if (read >= 0)
                {
                    return (int)read;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != LibC.EINTR)
                {
                    throw new IOException($"read: {LibC.Describe(errno)}");
                }
            }
        }
    }

    /// <summary>Hashes <paramref name="stream"/> from its current position to its end.</summary>
    public async Task<ContentHashes> HashAsync(Stream stream, HashKinds kinds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = Buffer();
        Select(kinds, out var md5, out var sha1, out var sha256);
        long length = 0;
        int read;
        try
        {
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                Append(md5, sha1, sha256, buffer.Span[..read]);
                length += read;
            }
        }
        catch
        {
            Reset(md5, sha1, sha256);
            throw;
        }

        return Finish(md5, sha1, sha256, length);
    }

    public void Dispose()
    {
        _md5?.Dispose();
        _sha1?.Dispose();
        _sha256?.Dispose();
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private Memory<byte> Buffer()
    {
        _buffer ??= ArrayPool<byte>.Shared.Rent(_bufferSize);
        return _buffer.AsMemory(0, _bufferSize);
    }

    private void Select(HashKinds kinds, out IncrementalHash? md5, out IncrementalHash? sha1, out IncrementalHash? sha256)
    {
        md5 = (kinds & HashKinds.Md5) != 0 ? _md5 ??= IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
        sha1 = (kinds & HashKinds.Sha1) != 0 ? _sha1 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA1) : null;
        sha256 = (kinds & HashKinds.Sha256) != 0 ? _sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
    }

    private static void Append(IncrementalHash? md5, IncrementalHash? sha1, IncrementalHash? sha256, ReadOnlySpan<byte> chunk)
    {
        md5?.AppendData(chunk);
        sha1?.AppendData(chunk);
        sha256?.AppendData(chunk);
    }

    // Leaves the kept digest contexts clean for the next content after a failed read.
    private static void Reset(IncrementalHash? md5, IncrementalHash? sha1, IncrementalHash? sha256)
    {
        _ = md5?.GetHashAndReset();
        _ = sha1?.GetHashAndReset();
        _ = sha256?.GetHashAndReset();
    }

    private static ContentHashes Finish(IncrementalHash? md5, IncrementalHash? sha1, IncrementalHash? sha256, long length) =>
        new(Hex(md5), Hex(sha1), Hex(sha256), length);

    private static string? Hex(IncrementalHash? hash) => hash is null ? null : Convert.ToHexStringLower(hash.GetHashAndReset());
}
