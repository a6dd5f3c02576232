using Microsoft.Extensions.Logging;
using Npgsql;

namespace Vigil.Storage.Postgres.Leadership;

/// <summary>One job that only one manager at a time runs (alert retention, partitions ahead): its name and what it does.</summary>
internal sealed record SingletonJob(string Name, TimeSpan Period, Func<CancellationToken, Task> RunAsync);

/// <summary>
/// Runs the jobs of which one copy is enough for all the managers on the database (alert retention, partitions ahead), on
/// the one manager that holds the leader lock: a session advisory lock (<c>pg_try_advisory_lock</c>) on a connection
/// of its own, kept open while it leads. A manager that dies, or whose connection breaks, loses the lock with its
/// session, and another takes it at its next try (every <see cref="RetryPeriod"/>). A job that fails is logged and
/// run again at its next period; the loop never ends on it.
/// </summary>
internal sealed partial class SingletonJobs(PostgresDatabase database, string managerName, IReadOnlyList<SingletonJob> jobs, TimeProvider time, ILogger logger) : IAsyncDisposable
{
    // An arbitrary constant: the advisory lock key of the leader of singleton jobs.
    public const long LeaderLock = 0x76_69_67_69_6C_00_00_04;

    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private volatile bool _isLeader;

    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(15);

    private int _attempts;

    /// <summary>How many times this manager tried to take the leader lock.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>Whether this manager holds the leader lock now.</summary>
    public bool IsLeader => _isLeader;

    public void Start() => _loop ??= Task.Run(() => RunAsync(_stopping.Token));

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var due = jobs.Select(_ => DateTimeOffset.MinValue).ToArray();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.Source.OpenConnectionAsync(cancellationToken);
                await using (var take = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LeaderLock})", connection))
                {
                    var taken = await take.ExecuteScalarAsync(cancellationToken) is true;
                    Interlocked.Increment(ref _attempts);
                    if (!taken)
                    {
                        await connection.CloseAsync();
                        await Task.Delay(RetryPeriod, time, cancellationToken);
                        continue;
                    }
                }

                _isLeader = true;
                Leads(logger, managerName);
                try
                {
                    await LeadAsync(connection, due, cancellationToken);
                }
                finally
                {
                    // The connection goes back to the pool with its session, so the lock is given back by hand.
                    await ReleaseAsync(connection);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
            {
                if (_isLeader)
                {
                    LostLead(logger, managerName, ex.Message);
                }

                try
                {
                    await Task.Delay(RetryPeriod, time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            finally
            {
                _isLeader = false;
            }
        }
    }

    private async Task LeadAsync(NpgsqlConnection connection, DateTimeOffset[] due, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            // The lock lives as long as this session: check it is still there before each round.
            await using (var alive = new NpgsqlCommand("SELECT 1", connection))
            {
                await alive.ExecuteScalarAsync(cancellationToken);
            }

            for (var i = 0; i < jobs.Count; i++)
            {
                if (time.GetUtcNow() < due[i])
                {
                    continue;
                }

                try
                {
                    await jobs[i].RunAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    JobFailed(logger, jobs[i].Name, ex.Message);
                }

                due[i] = time.GetUtcNow() + jobs[i].Period;
            }

            await Task.Delay(RetryPeriod, time, cancellationToken);
        }
    }

    private static async Task ReleaseAsync(NpgsqlConnection connection)
    {
        try
        {
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({LeaderLock})", connection);
            await release.ExecuteScalarAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
        {
            // A broken session has lost the lock already; the pool drops the connection.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await (_loop ?? Task.CompletedTask);
        _stopping.Dispose();
    }

    [LoggerMessage(EventIds.LeaderTaken, LogLevel.Information, "Manager {Manager} leads the singleton jobs (alert retention, partitions ahead) on the shared database")]
    private static partial void Leads(ILogger logger, string manager);

    [LoggerMessage(EventIds.LeaderLost, LogLevel.Warning, "Manager {Manager} lost the lead of the singleton jobs ({Reason}); it tries again")]
    private static partial void LostLead(ILogger logger, string manager, string reason);

    [LoggerMessage(EventIds.SingletonJobFailed, LogLevel.Warning, "Singleton job {Job} failed: {Reason}; it runs again at its next period")]
    private static partial void JobFailed(ILogger logger, string job, string reason);
}
