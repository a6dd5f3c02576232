using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Vigil.Core;
using Vigil.Intel;
using Vigil.Intel.VirusTotal;

namespace Vigil.Storage.Postgres;

/// <summary>
/// The VirusTotal state several managers share in PostgreSQL: a verdict stored by one is pushed to all
/// (NOTIFY vigil_verdicts), a hash one is looking up is claimed (lookup_claims, with a lease so a manager that dies
/// does not hold it forever), and each API key's quota is counted in one place: requests of the last minute in
/// vt_requests and the UTC day's count in vt_quota, both updated in one transaction under a per-key advisory lock,
/// by the database's clock.
/// </summary>
internal sealed class PostgresSharedIntel : ISharedIntel, IAsyncDisposable
{
    public const string Channel = "vigil_verdicts";

    // A request's slot counts from its answer, not from the grant: VirusTotal sees it somewhere in between (a busy
    // host, a TLS handshake), so a slot granted is "in flight" (its time is the grant plus InFlight, in the future)
    // until Answered moves it to the moment the answer came; a manager that dies mid-request leaves its slot to
    // count until then. A minute of 61 seconds leaves a margin for the clocks.
    private const string Minute = "61 seconds";
    private const string InFlight = "5 minutes";

    private readonly PostgresDatabase _database;
    private readonly string _managerName;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _listener;
    private TaskCompletionSource _stored = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PostgresSharedIntel(PostgresDatabase database, string managerName, ILogger logger)
    {
        _database = database;
        _managerName = managerName;
        _logger = logger;
        _listener = Task.Run(() => ListenAsync(_stopping.Token));
    }

    public Task VerdictStored => Volatile.Read(ref _stored).Task;

    public FileVerdict? TryGetVerdict(string hash) => Run(() =>
    {
        using var connection = _database.Source.OpenConnection();
        using var command = new NpgsqlCommand(
            "SELECT body FROM verdicts WHERE (lookup_hash = $1 OR sha256 = $1 OR md5 = $1) AND expires_at > now() ORDER BY expires_at DESC LIMIT 1",
            connection);
        command.Parameters.Add(PostgresAgentDirectory.Text(hash.ToLowerInvariant()));
        return command.ExecuteScalar() is string body ? JsonSerializer.Deserialize(body, IntelJsonContext.Default.FileVerdict) : null;
    });

    public void PutVerdict(FileVerdict verdict, DateTimeOffset expires) => Run(() =>
    {
        using var connection = _database.Source.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using (var command = new NpgsqlCommand(
            """
            INSERT INTO verdicts(lookup_hash, sha256, md5, expires_at, body, manager) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (lookup_hash) DO UPDATE SET sha256 = excluded.sha256, md5 = excluded.md5, expires_at = excluded.expires_at, body = excluded.body, manager = excluded.manager
            """,
            connection,
            transaction))
        {
            command.Parameters.Add(PostgresAgentDirectory.Text(verdict.LookupHash.ToLowerInvariant()));
            command.Parameters.Add(PostgresAgentDirectory.Text(verdict.Sha256?.ToLowerInvariant()));
            command.Parameters.Add(PostgresAgentDirectory.Text(verdict.Md5?.ToLowerInvariant()));
            command.Parameters.Add(new NpgsqlParameter { Value = expires.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(PostgresAgentDirectory.Text(JsonSerializer.Serialize(verdict, IntelJsonContext.Default.FileVerdict)));
            command.Parameters.Add(PostgresAgentDirectory.Text(_managerName));
            command.ExecuteNonQuery();
        }

        using (var release = new NpgsqlCommand("DELETE FROM lookup_claims WHERE lookup_hash = $1", connection, transaction))
        {
            release.Parameters.Add(PostgresAgentDirectory.Text(verdict.LookupHash.ToLowerInvariant()));
            release.ExecuteNonQuery();
        }

        using (var notify = new NpgsqlCommand("SELECT pg_notify($1, $2)", connection, transaction))
        {
            notify.Parameters.Add(PostgresAgentDirectory.Text(Channel));
            notify.Parameters.Add(PostgresAgentDirectory.Text(verdict.LookupHash.ToLowerInvariant()));
            notify.ExecuteNonQuery();
        }

        transaction.Commit();
        return true;
    });

    public bool TryClaim(string hash, TimeSpan lease) => Run(() =>
    {
        using var connection = _database.Source.OpenConnection();
        using var command = new NpgsqlCommand(
            """
            INSERT INTO lookup_claims(lookup_hash, manager, expires_at) VALUES ($1, $2, now() + $3)
            ON CONFLICT (lookup_hash) DO UPDATE SET manager = excluded.manager, expires_at = excluded.expires_at
            WHERE lookup_claims.expires_at <= now() OR lookup_claims.manager = excluded.manager
            """,
            connection);
        command.Parameters.Add(PostgresAgentDirectory.Text(hash.ToLowerInvariant()));
        command.Parameters.Add(PostgresAgentDirectory.Text(_managerName));
        command.Parameters.Add(new NpgsqlParameter { Value = lease, NpgsqlDbType = NpgsqlDbType.Interval });
        return command.ExecuteNonQuery() > 0;
    });

    public void Release(string hash) => Run(() =>
    {
        using var connection = _database.Source.OpenConnection();
        using var command = new NpgsqlCommand("DELETE FROM lookup_claims WHERE lookup_hash = $1 AND manager = $2", connection);
        command.Parameters.Add(PostgresAgentDirectory.Text(hash.ToLowerInvariant()));
        command.Parameters.Add(PostgresAgentDirectory.Text(_managerName));
        return command.ExecuteNonQuery();
    });

    public (DateTimeOffset Until, QuotaKind Kind)? TryAcquire(string keyId, int perMinute, int perDay) => Run<(DateTimeOffset, QuotaKind)?>(() =>
    {
        using var connection = _database.Source.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using (var lockKey = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('vigil.vt.' || $1, 0))", connection, transaction))
        {
            lockKey.Parameters.Add(PostgresAgentDirectory.Text(keyId));
            lockKey.ExecuteNonQuery();
        }

        DateTimeOffset now;
        DateTimeOffset dayStart;
        int usedToday;
        using (var day = new NpgsqlCommand(
            $"""
            SELECT clock_timestamp(), date_trunc('day', clock_timestamp() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                   COALESCE((SELECT used FROM vt_quota WHERE key_id = $1 AND window_kind = 'day' AND window_start = date_trunc('day', clock_timestamp() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'), 0)
            """,
            connection,
            transaction))
        {
            day.Parameters.Add(PostgresAgentDirectory.Text(keyId));
            using var reader = day.ExecuteReader();
            reader.Read();
            (now, dayStart, usedToday) = (reader.GetFieldValue<DateTimeOffset>(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt32(2));
        }

        if (usedToday >= perDay)
        {
            return (dayStart.AddDays(1), QuotaKind.Daily);
        }

        using (var minute = new NpgsqlCommand(
            $"SELECT count(*), min(sent_at) FROM vt_requests WHERE key_id = $1 AND sent_at > $2 - interval '{Minute}'",
            connection,
            transaction))
        {
            minute.Parameters.Add(PostgresAgentDirectory.Text(keyId));
            minute.Parameters.Add(new NpgsqlParameter { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            using var reader = minute.ExecuteReader();
            reader.Read();
            if (reader.GetInt64(0) >= perMinute)
            {
                // The oldest slot leaves the minute 61 s after its answer; one still in flight: look again soon.
                var oldest = reader.GetFieldValue<DateTimeOffset>(1);
                return (oldest <= now ? oldest.AddSeconds(61) : now.AddSeconds(1), QuotaKind.Minute);
            }
        }

        foreach (var sql in new[]
        {
            $"DELETE FROM vt_requests WHERE key_id = $1 AND sent_at <= $2 - interval '{Minute}'",
            $"INSERT INTO vt_requests(key_id, sent_at, manager) VALUES ($1, $2 + interval '{InFlight}', $3)",
            "INSERT INTO vt_quota(key_id, window_kind, window_start, used) VALUES ($1, 'day', $2, 1) ON CONFLICT (key_id, window_kind, window_start) DO UPDATE SET used = vt_quota.used + 1",
        })
        {
            using var record = new NpgsqlCommand(sql, connection, transaction);
            record.Parameters.Add(PostgresAgentDirectory.Text(keyId));
            record.Parameters.Add(new NpgsqlParameter { Value = sql.StartsWith("INSERT INTO vt_quota", StringComparison.Ordinal) ? dayStart : now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            if (sql.StartsWith("INSERT INTO vt_requests", StringComparison.Ordinal))
            {
                record.Parameters.Add(PostgresAgentDirectory.Text(_managerName));
            }

            record.ExecuteNonQuery();
        }

        transaction.Commit();
        return null;
    });

    public void Answered(string keyId) => Run(() =>
    {
        using var connection = _database.Source.OpenConnection();
        using var command = new NpgsqlCommand(
            """
            UPDATE vt_requests SET sent_at = clock_timestamp()
            WHERE ctid = (SELECT ctid FROM vt_requests WHERE key_id = $1 AND manager = $2 AND sent_at > clock_timestamp()
                          ORDER BY sent_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            """,
            connection);
        command.Parameters.Add(PostgresAgentDirectory.Text(keyId));
        command.Parameters.Add(PostgresAgentDirectory.Text(_managerName));
        return command.ExecuteNonQuery();
    });

    /// <summary>The key's id in the database: never the key itself.</summary>
    public static string KeyId(string apiKey) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(apiKey)));

    // LISTEN on a connection of its own; each notification completes the current task. Reconnects when the
    // database goes away (a stored verdict is then found by the next lookup instead of being pushed).
    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _database.Source.OpenConnectionAsync(cancellationToken);
                connection.Notification += (_, _) => Interlocked.Exchange(ref _stored, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken);
                }

                while (!cancellationToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
            {
                PostgresLog.Unavailable(_logger, _database.Display, ex.Message, "verdicts stored by other managers are found at the next lookup instead of pushed");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private T Run<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw new VigilException($"shared database {_database.Display} unavailable: {ex.Message}", isFatal: false, ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _listener.ContinueWith(_ => { }, TaskScheduler.Default);
        _stopping.Dispose();
    }
}
