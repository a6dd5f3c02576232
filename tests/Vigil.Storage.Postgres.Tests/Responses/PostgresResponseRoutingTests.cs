using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Storage.Postgres.Responses;

namespace Vigil.Storage.Postgres.Tests.Responses;

public sealed class PostgresResponseRoutingTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    [Fact(Timeout = 120_000)]
    public async Task Leases_TakenOverByTheManagerTheAgentMovesTo_ReleasedOnlyByTheirHolder()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        await using var first = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await using var second = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await first.MigrateAsync(CancellationToken.None);
        await using var a = new PostgresResponseRouting(first, "a:1514", NullLogger.Instance, _ => { });
        await using var b = new PostgresResponseRouting(second, "b:1514", NullLogger.Instance, _ => { });

        Assert.Null(await a.LeaseHolderAsync("001", CancellationToken.None));
        await a.TakeLeaseAsync("001", CancellationToken.None);
        Assert.Equal("a:1514", await b.LeaseHolderAsync("001", CancellationToken.None));

        // The agent moved to B: B takes the lease over, and A letting go (its stream ended late) does not drop it.
        await b.TakeLeaseAsync("001", CancellationToken.None);
        await a.ReleaseLeaseAsync("001", CancellationToken.None);
        Assert.Equal("b:1514", await a.LeaseHolderAsync("001", CancellationToken.None));

        // A lease no one renews is no lease.
        await fixture.Server.PsqlAsync(name, "UPDATE agent_leases SET expires_at = now() - interval '1 second'");
        Assert.Null(await a.LeaseHolderAsync("001", CancellationToken.None));
        await b.RenewLeasesAsync(["001"], CancellationToken.None);
        Assert.Equal("b:1514", await a.LeaseHolderAsync("001", CancellationToken.None));
        await b.ReleaseLeaseAsync("001", CancellationToken.None);
        Assert.Null(await a.LeaseHolderAsync("001", CancellationToken.None));
    }

    [Fact(Timeout = 120_000)]
    public async Task HandOff_ToTheLeaseHolder_NotifiesItOnce_RepeatedHandOffKeepsOneRow_CompletedRowGoes()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        await using var first = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await using var second = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await first.MigrateAsync(CancellationToken.None);
        var toA = new ConcurrentQueue<string>();
        var toB = new ConcurrentQueue<string>();
        await using var a = new PostgresResponseRouting(first, "a:1514", NullLogger.Instance, toA.Enqueue);
        await using var b = new PostgresResponseRouting(second, "b:1514", NullLogger.Instance, toB.Enqueue);
        await Task.WhenAll(a.Listening.Task, b.Listening.Task).WaitAsync(TimeSpan.FromSeconds(30));
        await b.TakeLeaseAsync("002", CancellationToken.None);

        var response = new RoutedResponse("a:1514", 7, "002", "notify0", """{"command":"add"}""", TimeProvider.System.GetUtcNow().AddMinutes(10));
        var holders = await a.HandOffAsync([response], CancellationToken.None);
        Assert.Equal("b:1514", holders["002"]);
        await WaitForAsync(() => !toB.IsEmpty);
        Assert.Equal("002", Assert.Single(toB));
        Assert.Empty(toA);

        // A hand-off repeated (the origin restarted before it took the row out of its outbox) keeps one row.
        await a.HandOffAsync([response], CancellationToken.None);
        var pending = Assert.Single(await b.PendingForAsync(["002", "003"], CancellationToken.None));
        Assert.Equal(("a:1514", 7UL, "notify0"), (pending.Origin, pending.Id, pending.Name));
        Assert.Equal(response.Deadline.ToUnixTimeMilliseconds(), pending.Deadline.ToUnixTimeMilliseconds());

        await b.MarkSentAsync(pending, CancellationToken.None);
        Assert.Equal("b:1514", await fixture.Server.PsqlAsync(name, "SELECT sent_by FROM routed_responses"));
        Assert.True(await b.CompleteAsync("a:1514", 7, CancellationToken.None));
        Assert.False(await b.CompleteAsync("a:1514", 7, CancellationToken.None));
        Assert.Empty(await b.PendingForAsync(["002"], CancellationToken.None));
    }

    [Fact(Timeout = 120_000)]
    public async Task HandOff_NoLeaseHolder_WakesEveryManager_AndTheOriginTakesItBackAtItsDeadline()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        await using var first = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await using var second = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await first.MigrateAsync(CancellationToken.None);
        var toA = new ConcurrentQueue<string>();
        var toB = new ConcurrentQueue<string>();
        await using var a = new PostgresResponseRouting(first, "a:1514", NullLogger.Instance, toA.Enqueue);
        await using var b = new PostgresResponseRouting(second, "b:1514", NullLogger.Instance, toB.Enqueue);
        await Task.WhenAll(a.Listening.Task, b.Listening.Task).WaitAsync(TimeSpan.FromSeconds(30));

        var now = TimeProvider.System.GetUtcNow();
        var holders = await a.HandOffAsync(
            [
                new RoutedResponse("a:1514", 1, "004", "late0", "{}", now.AddSeconds(-1)),
                new RoutedResponse("a:1514", 2, "004", "later0", "{}", now.AddMinutes(10)),
                new RoutedResponse("a:1514", 3, "004", "never0", "{}", DateTimeOffset.MaxValue),
            ],
            CancellationToken.None);
        Assert.Null(holders["004"]);
        await WaitForAsync(() => !toA.IsEmpty && !toB.IsEmpty);

        // Only the origin takes back what passed its deadline; B's turn finds none of A's.
        Assert.Empty(await b.TakeExpiredAsync(CancellationToken.None));
        var expired = Assert.Single(await a.TakeExpiredAsync(CancellationToken.None));
        Assert.Equal("late0", expired.Name);
        var left = await b.PendingForAsync(["004"], CancellationToken.None);
        Assert.Equal(["later0", "never0"], left.Select(r => r.Name).Order());
        Assert.Equal(DateTimeOffset.MaxValue, left.Single(r => r.Name == "never0").Deadline);
    }

    private static async Task WaitForAsync(Func<bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!done())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "not notified within 20 s");
            await Task.Delay(50);
        }
    }
}
