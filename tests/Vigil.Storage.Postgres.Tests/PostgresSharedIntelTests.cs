using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Intel.VirusTotal;

namespace Vigil.Storage.Postgres.Tests;

public sealed class PostgresSharedIntelTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    [Fact(Timeout = 120_000)]
    public async Task TryAcquire_ThreeManagersRacing_GrantExactlyTheMinuteQuota()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        var databases = Enumerable.Range(0, 3).Select(_ => PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password)).ToList();
        await databases[0].MigrateAsync(CancellationToken.None);
        var intels = databases.Select((d, i) => new PostgresSharedIntel(d, $"m{i}", NullLogger.Instance)).ToList();
        try
        {
            var results = OnThreadsOfTheirOwn(24, i => intels[i % 3].TryAcquire("key-1", 4, 500));
            Assert.Equal(4, results.Count(r => r is null));
            Assert.All(results.Where(r => r is not null), r => Assert.Equal(QuotaKind.Minute, r!.Value.Kind));
            Assert.Null(intels[0].TryAcquire("key-2", 4, 500));

            var day = OnThreadsOfTheirOwn(6, i => intels[i % 3].TryAcquire("key-3", 100, 2));
            Assert.Equal(2, day.Count(r => r is null));
            Assert.All(day.Where(r => r is not null), r => Assert.Equal(QuotaKind.Daily, r!.Value.Kind));
        }
        finally
        {
            foreach (var intel in intels)
            {
                await intel.DisposeAsync();
            }

            foreach (var database in databases)
            {
                await database.DisposeAsync();
            }
        }
    }

    // Blocking calls racing each other, each on a thread of its own: through the thread pool, 24 of them on 2 cores
    // waited for the pool to grow while the others held their row locks, and timed out on a loaded machine.
    private static T[] OnThreadsOfTheirOwn<T>(int count, Func<int, T> call)
    {
        var results = new T[count];
        var errors = new Exception?[count];
        using var start = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, count).Select(i => new Thread(() =>
        {
            start.Wait();
            try
            {
                results[i] = call(i);
            }
            catch (Exception ex)
            {
                errors[i] = ex;
            }
        })
        { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());
        start.Set();

        // Bounded: each call gives up within the database's own timeouts (10 s to connect, 30 s a command).
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(90)), "a TryAcquire call did not return within 90 s"));
        var failed = errors.Where(e => e is not null).ToList();
        return failed.Count == 0 ? results : throw new AggregateException(failed!);
    }

    [Fact(Timeout = 120_000)]
    public async Task TryAcquire_ASlotCountsFromItsAnswer_NotFromItsGrant()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        await using var database = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await database.MigrateAsync(CancellationToken.None);
        await using var intel = new PostgresSharedIntel(database, "m0", NullLogger.Instance);

        var granted = TimeProvider.System.GetUtcNow();
        Assert.Null(intel.TryAcquire("key-4", 1, 500));
        var inFlight = intel.TryAcquire("key-4", 1, 500);
        Assert.Equal(QuotaKind.Minute, inFlight!.Value.Kind);
        Assert.True(inFlight.Value.Until < granted.AddSeconds(10), $"in flight: look again soon, not at {inFlight.Value.Until:O}");

        await Task.Delay(TimeSpan.FromSeconds(2)); // the request takes 2 s to be answered (a busy host, a TLS handshake)
        intel.Answered("key-4");

        var answered = intel.TryAcquire("key-4", 1, 500);
        Assert.Equal(QuotaKind.Minute, answered!.Value.Kind);
        Assert.True(answered.Value.Until >= granted.AddSeconds(62), $"61 s from the answer, not from the grant: {answered.Value.Until:O} for a grant at {granted:O}");
    }

    [Fact(Timeout = 120_000)]
    public async Task TryClaim_HeldByOne_RefusedToOthersUntilTheVerdictIsStoredAndPushed()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        await using var first = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await using var second = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await first.MigrateAsync(CancellationToken.None);
        await using var a = new PostgresSharedIntel(first, "a", NullLogger.Instance);
        await using var b = new PostgresSharedIntel(second, "b", NullLogger.Instance);
        var hash = new string('a', 64);
        Assert.True(a.TryClaim(hash, TimeSpan.FromMinutes(5)));
        Assert.False(b.TryClaim(hash, TimeSpan.FromMinutes(5)));
        Assert.Null(b.TryGetVerdict(hash));

        await Task.Delay(TimeSpan.FromSeconds(1)); // b's LISTEN is set up on its own connection
        var pushed = b.VerdictStored;
        a.PutVerdict(new FileVerdict { IsFound = true, LookupHash = hash, Sha256 = hash, Md5 = new string('b', 32), Malicious = 3 }, TimeProvider.System.GetUtcNow().AddHours(1));
        Assert.Same(pushed, await Task.WhenAny(pushed, Task.Delay(TimeSpan.FromSeconds(20))));

        Assert.Equal(3, b.TryGetVerdict(hash.ToUpperInvariant())!.Positives);
        Assert.Equal(hash, b.TryGetVerdict(new string('b', 32))!.LookupHash);
        Assert.True(b.TryClaim(hash, TimeSpan.FromMinutes(5)));
        b.Release(hash);
        Assert.True(a.TryClaim(hash, TimeSpan.FromMinutes(5)));
    }
}
