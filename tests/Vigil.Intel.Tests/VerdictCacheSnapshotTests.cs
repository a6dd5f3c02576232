using Vigil.Intel.VirusTotal;
using Vigil.Tests.Common;

namespace Vigil.Intel.Tests;

/// <summary>The snapshot a one-shot scan takes of the verdict cache: what SQLite holds is found, nothing else is asked.</summary>
public sealed class VerdictCacheSnapshotTests : IDisposable
{
    private readonly TempDirectory _directory = new("vigil-cache-snapshot");

    [Fact]
    public void Snapshot_StoredHashFoundBySha256OrMd5_OthersMissWithoutAQuery()
    {
        using var store = IntelStore.Open(_directory.Combine("intel.db"));
        var writer = new VerdictCache(store, new IntelOptions(), TimeProvider.System);
        writer.Put(Verdict('a', 'b'));

        var reader = new VerdictCache(store, new IntelOptions(), TimeProvider.System);
        Assert.True(reader.Snapshot(limit: 10));
        store.Dispose(); // a hash outside the snapshot must not reach SQLite at all

        Assert.Null(reader.TryGet(new string('c', 64)));
    }

    [Fact]
    public void Snapshot_HashesAreFoundThroughIt_AndAnExpiredOneIsNotInIt()
    {
        using var store = IntelStore.Open(_directory.Combine("intel.db"));
        store.PutVerdict(Verdict('a', 'b'), TimeProvider.System.GetUtcNow().AddHours(1));
        store.PutVerdict(Verdict('d', 'e'), TimeProvider.System.GetUtcNow().AddHours(-1));
        var cache = new VerdictCache(store, new IntelOptions(), TimeProvider.System);

        Assert.True(cache.Snapshot(limit: 10));

        Assert.Equal(3, cache.TryGet(new string('a', 64))?.Malicious);
        Assert.Equal(3, cache.TryGet(new string('B', 32))?.Malicious); // MD5, any case
        Assert.Null(cache.TryGet(new string('d', 64)));
        Assert.Equal(new HashSet<string> { new('a', 64), new('b', 32) }, store.StoredHashes(TimeProvider.System.GetUtcNow(), 10));
    }

    [Fact]
    public void Snapshot_MoreVerdictsThanTheLimit_NoSnapshotEveryHashAsked()
    {
        using var store = IntelStore.Open(_directory.Combine("intel.db"));
        store.PutVerdict(Verdict('a', 'b'), TimeProvider.System.GetUtcNow().AddHours(1));
        store.PutVerdict(Verdict('d', 'e'), TimeProvider.System.GetUtcNow().AddHours(1));
        var cache = new VerdictCache(store, new IntelOptions(), TimeProvider.System);

        Assert.False(cache.Snapshot(limit: 1));

        Assert.Equal(3, cache.TryGet(new string('d', 64))?.Malicious);
    }

    private static FileVerdict Verdict(char sha256, char md5) =>
        new() { IsFound = true, LookupHash = new string(sha256, 64), Sha256 = new string(sha256, 64), Md5 = new string(md5, 32), Malicious = 3 };

    public void Dispose() => _directory.Dispose();
}
