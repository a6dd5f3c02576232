using Microsoft.Extensions.Logging;
using Vigil.Storage.Postgres;
using Vigil.Storage.Postgres.Alerts;
using Vigil.Storage.Postgres.Leadership;
using Vigil.Web.Index;

namespace Vigil.Manager;

/// <summary>With --database: the alert store in the shared database, and its retention run by one manager (the leader).</summary>
internal static class SharedAlerts
{
    private static readonly TimeSpan JobPeriod = TimeSpan.FromHours(1);

    /// <summary>The store of this manager on the database, with the singleton jobs over it (not yet started).</summary>
    public static StoreJobs Jobs(PostgresDatabase database, string managerName, TimeProvider time, ILoggerFactory loggers)
    {
        var store = new PostgresAlertStore(database, managerName, new AlertIndexOptions(), time);
        var jobs = new SingletonJobs(database, managerName,
            [
                new SingletonJob("alert partitions ahead", JobPeriod, token => Task.Run(store.CreatePartitionsAhead, token)),
                new SingletonJob("alert retention", JobPeriod, token => Task.Run(store.ApplyRetention, token)),
            ],
            time,
            loggers.CreateLogger("Vigil.Storage.Postgres"));
        return new StoreJobs(store, jobs);
    }

    /// <summary>Starts indexing into the shared store (its retention is the leader's job) and the singleton jobs.</summary>
    public static AlertIndexing Open(StoreJobs jobs, ILogger logger, TimeProvider time)
    {
        try
        {
            jobs.Store.CreatePartitionsAhead();
        }
        catch (Npgsql.NpgsqlException ex)
        {
            AlertIndexingLog.PartitionsNotCreated(logger, ex.Message);
        }

        var indexing = AlertIndexing.Open(jobs.Store, logger, time, runsRetention: false);
        jobs.Jobs.Start();
        return indexing;
    }

    internal sealed record StoreJobs(PostgresAlertStore Store, SingletonJobs Jobs) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Jobs.DisposeAsync();
    }
}
