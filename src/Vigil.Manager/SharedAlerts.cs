using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vigil.Hosting;
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

    /// <summary>Starts indexing into the shared store (its retention is the leader's job; the singleton jobs are the host's stage <see cref="Service"/>).</summary>
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

        return AlertIndexing.Open(jobs.Store, logger, time, runsRetention: false);
    }

    /// <summary>The singleton jobs as a stage of the host: they run once it starts and end with its stop.</summary>
    public static IHostedService Service(StoreJobs jobs) =>
        VigilHost.Stage(
            _ =>
            {
                jobs.Jobs.Start();
                return Task.CompletedTask;
            },
            jobs);

    internal sealed record StoreJobs(PostgresAlertStore Store, SingletonJobs Jobs) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Jobs.DisposeAsync();
    }
}
