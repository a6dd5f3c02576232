using System.Security.Cryptography;
using Vigil.Core.Hashing;
using Vigil.Tests.Common;

namespace Vigil.Core.Tests.Hashing;

public sealed class ContentHasherTests
{
    [Fact]
    public void Hash_AllKinds_MatchesOneShotDigests_AcrossSeveralBufferFills()
    {
        using var dir = new TempDirectory();
        var content = new byte[10_000];
        new Random(42).NextBytes(content);
        var path = dir.Combine("data.bin");
        File.WriteAllBytes(path, content);

        using var hasher = new ContentHasher(bufferSize: 4096);
        using var handle = File.OpenHandle(path);
        var hashes = hasher.Hash(handle, HashKinds.All);

        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(content)), hashes.Md5);
        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(content)), hashes.Sha1);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), hashes.Sha256);
        Assert.Equal(content.Length, hashes.Length);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(3000, 3000)] // one short read that reaches the known length: the end
    [InlineData(8192, 8192)] // whole buffers: read on to the pread that returns 0
    [InlineData(10_000, 10_000)]
    [InlineData(10_000, 6000)] // grew after the fstat: read on to its end
    [InlineData(3000, 5000)] // shrank after the fstat
    public void Hash_WithKnownLength_HashesTheWholeFileAsWithout(int size, long knownLength)
    {
        using var dir = new TempDirectory();
        var content = new byte[size];
        new Random(size).NextBytes(content);
        var path = dir.Combine("data.bin");
        File.WriteAllBytes(path, content);

        using var hasher = new ContentHasher(bufferSize: 4096);
        using var handle = File.OpenHandle(path);
        var hashes = hasher.Hash(handle, HashKinds.Sha256, knownLength);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), hashes.Sha256);
        Assert.Equal(content.Length, hashes.Length);
    }

    [Fact]
    public void Hash_OnlyRequestedKinds_LeavesTheOthersNull()
    {
        using var dir = new TempDirectory();
        var path = WriteEicar(dir);
        using var hasher = new ContentHasher(bufferSize: 1024);
        using var handle = File.OpenHandle(path);

        var hashes = hasher.Hash(handle, HashKinds.Sha256);

        Assert.Null(hashes.Md5);
        Assert.Null(hashes.Sha1);
        Assert.Equal(Eicar.Sha256, hashes.Sha256);
    }

    [Fact]
    public void Hash_ReusedInstance_StartsEachContentFresh()
    {
        using var dir = new TempDirectory();
        var eicar = WriteEicar(dir);
        var empty = dir.WriteFile("empty.txt", "");
        using var hasher = new ContentHasher(bufferSize: 16);

        using (var handle = File.OpenHandle(eicar))
        {
            _ = hasher.Hash(handle, HashKinds.All);
        }

        using var emptyHandle = File.OpenHandle(empty);
        var hashes = hasher.Hash(emptyHandle, HashKinds.All);

        Assert.Equal(Convert.ToHexStringLower(MD5.HashData([])), hashes.Md5);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData([])), hashes.Sha256);
        Assert.Equal(0, hashes.Length);
    }

    [Fact]
    public async Task HashAsync_ReadsTheStreamFromItsPosition()
    {
        using var stream = new MemoryStream([0xFF, .. Eicar.Bytes]) { Position = 1 };
        using var hasher = new ContentHasher(bufferSize: 7);

        var hashes = await hasher.HashAsync(stream, HashKinds.Md5 | HashKinds.Sha1, CancellationToken.None);

        Assert.Equal(Eicar.Md5, hashes.Md5);
        Assert.Equal(Eicar.Sha1, hashes.Sha1);
        Assert.Null(hashes.Sha256);
        Assert.Equal(Eicar.Bytes.Length, hashes.Length);
    }

    [Fact]
    public async Task FileHashes_ComputeAndComputeAsync_Agree()
    {
        using var dir = new TempDirectory();
        var path = WriteEicar(dir);
        using var handle = File.OpenHandle(path);
        await using var stream = File.OpenRead(path);

        var fromHandle = FileHashes.Compute(handle, bufferSize: 1 << 20);
        var fromStream = await FileHashes.ComputeAsync(stream, bufferSize: 128 * 1024, CancellationToken.None);

        Assert.Equal(new FileHashes(Eicar.Md5, Eicar.Sha1, Eicar.Sha256, Eicar.Bytes.Length), fromHandle);
        Assert.Equal(fromHandle, fromStream);
    }

    private static string WriteEicar(TempDirectory dir)
    {
        var path = dir.Combine("eicar.txt");
        File.WriteAllBytes(path, Eicar.Bytes);
        return path;
    }
}
