using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Storage.Postgres.Leadership;

namespace Vigil.Storage.Postgres.Tests.Leadership;

public sealed class SingletonJobsTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        for (var i = 0; i < 300 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition(), $"timed out waiting until {what}");
    }

    [Fact(Timeout = 120_000)]
    public async Task TwoManagers_OnlyTheLeaderPurges_AndTheOtherTakesOverWhenItStops()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        await using var databaseA = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await using var databaseB = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        var purgesA = 0;
        var purgesB = 0;
        SingletonJobs Jobs(PostgresDatabase database, string manager, Action purge) =>
            new(database, manager, [new SingletonJob("purge", TimeSpan.FromHours(1), _ =>
            {
                purge();
                return Task.CompletedTask;
            })], TimeProvider.System, NullLogger.Instance)
            { RetryPeriod = TimeSpan.FromMilliseconds(100) };

        var a = Jobs(databaseA, "mgr-a", () => Interlocked.Increment(ref purgesA));
        await using var b = Jobs(databaseB, "mgr-b", () => Interlocked.Increment(ref purgesB));
        try
        {
            a.Start();
            await WaitUntilAsync(() => a.IsLeader && Volatile.Read(ref purgesA) == 1, "manager A leads and purged");
            b.Start();
            await WaitUntilAsync(() => b.Attempts >= 3, "manager B tried to lead three times");

            Assert.False(b.IsLeader);
            Assert.Equal(0, Volatile.Read(ref purgesB));
            Assert.Equal(1, Volatile.Read(ref purgesA)); // once per period, not once per round
        }
        finally
        {
            await a.DisposeAsync();
        }

        await WaitUntilAsync(() => b.IsLeader && Volatile.Read(ref purgesB) == 1, "manager B took over and purged");
        Assert.Equal(1, Volatile.Read(ref purgesA));
    }

    [Fact(Timeout = 120_000)]
    public async Task LeaderSessionKilled_LosesTheLead_AndAnotherTakesIt()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        await using var databaseA = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await using var databaseB = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        var ran = new System.Collections.Concurrent.ConcurrentQueue<string>();
        SingletonJobs Jobs(PostgresDatabase database, string manager) =>
            new(database, manager, [new SingletonJob("retention", TimeSpan.FromHours(1), _ =>
            {
                ran.Enqueue(manager);
                return Task.CompletedTask;
            })], TimeProvider.System, NullLogger.Instance)
            { RetryPeriod = TimeSpan.FromMilliseconds(100) };

        await using var a = Jobs(databaseA, "mgr-a");
        await using var b = Jobs(databaseB, "mgr-b");
        a.Start();
        await WaitUntilAsync(() => a.IsLeader, "manager A leads");
        b.Start();

        // The leader's session ends (as when its manager dies or its connection breaks): its lock goes with it.
        await fixture.Server.PsqlAsync(name, "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted");
        await WaitUntilAsync(() => ran.Count == 2, "a manager leads again and runs the job");
        Assert.Equal(2, ran.Count);
        Assert.Equal("mgr-a", ran.First());
    }
}
