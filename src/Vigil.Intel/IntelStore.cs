using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;
using Vigil.Core;
using Vigil.Core.Events;
using Vigil.Intel.Selection;
using Vigil.Intel.VirusTotal;

namespace Vigil.Intel;

/// <summary>
/// The intelligence store, one SQLite file: the durable lookup queue, the verdict cache, the request log the
/// quota is counted from, and a little state (back-off, quota episode). One connection, serialised by a lock:
/// every statement here is a few microseconds, and the file is shared across processes (the drop-in runs once
/// per alert) through SQLite's own locking.
/// </summary>
internal sealed class IntelStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();
    private SqliteCommand? _verdictQuery;

    private IntelStore(SqliteConnection connection) => _connection = connection;

    public string Path { get; private init; } = "";

    public static IntelStore Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
            connection.Open();
            var store = new IntelStore(connection) { Path = path };
            // WAL + synchronous=NORMAL: a committed row survives the process being killed (not a power cut).
            store.Execute("""
                PRAGMA journal_mode=WAL;
                PRAGMA synchronous=NORMAL;
                PRAGMA busy_timeout=5000;
                CREATE TABLE IF NOT EXISTS lookups(
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    hash TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    state INTEGER NOT NULL DEFAULT 0,
                    alert_id TEXT NOT NULL, agent_id TEXT NOT NULL, agent_name TEXT NOT NULL, agent_ip TEXT,
                    path TEXT NOT NULL, md5 TEXT, sha1 TEXT, sha256 TEXT);
                CREATE INDEX IF NOT EXISTS lookups_next ON lookups(state, priority, id);
                CREATE INDEX IF NOT EXISTS lookups_hash ON lookups(hash, state);
                CREATE TABLE IF NOT EXISTS verdicts(
                    lookup_hash TEXT PRIMARY KEY, sha256 TEXT, md5 TEXT,
                    expires_ms INTEGER NOT NULL, body TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS verdicts_sha256 ON verdicts(sha256);
                CREATE INDEX IF NOT EXISTS verdicts_md5 ON verdicts(md5);
                CREATE TABLE IF NOT EXISTS requests(ts_ms INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS requests_ts ON requests(ts_ms);
                CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS attempts(hash TEXT PRIMARY KEY, count INTEGER NOT NULL);
                """);
            return store;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new VigilException($"intelligence store {path}: {ex.Message}", isFatal: true, ex);
        }
    }

    // ---- queue -------------------------------------------------------------------------------------------

    /// <summary>Persists one lookup; when this returns the row is committed.</summary>
    /// <summary>Queues a lookup; with <paramref name="onlyOnce"/>, not when one for the same alert id and path is queued already.</summary>
    public long Enqueue(FileAlert file, bool onlyOnce = false)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = onlyOnce
                ? """
                    INSERT INTO lookups(hash, priority, alert_id, agent_id, agent_name, agent_ip, path, md5, sha1, sha256)
                    SELECT $hash, $priority, $alert, $aid, $aname, $aip, $path, $md5, $sha1, $sha256
                    WHERE NOT EXISTS (SELECT 1 FROM lookups WHERE alert_id = $alert AND path = $path);
                    SELECT COALESCE((SELECT id FROM lookups WHERE alert_id = $alert AND path = $path), last_insert_rowid());
                    """
                : """
                    INSERT INTO lookups(hash, priority, alert_id, agent_id, agent_name, agent_ip, path, md5, sha1, sha256)
                    VALUES($hash, $priority, $alert, $aid, $aname, $aip, $path, $md5, $sha1, $sha256);
                    SELECT last_insert_rowid();
                    """;
            command.Parameters.AddWithValue("$hash", file.LookupHash);
            command.Parameters.AddWithValue("$priority", file.IsRealtime ? 0 : 1);
            command.Parameters.AddWithValue("$alert", file.AlertId);
            command.Parameters.AddWithValue("$aid", file.Agent.Id);
            command.Parameters.AddWithValue("$aname", file.Agent.Name);
            command.Parameters.AddWithValue("$aip", (object?)file.Agent.Ip ?? DBNull.Value);
            command.Parameters.AddWithValue("$path", file.Path);
            command.Parameters.AddWithValue("$md5", (object?)file.Md5 ?? DBNull.Value);
            command.Parameters.AddWithValue("$sha1", (object?)file.Sha1 ?? DBNull.Value);
            command.Parameters.AddWithValue("$sha256", (object?)file.Sha256 ?? DBNull.Value);
            return (long)command.ExecuteScalar()!;
        }
    }

    /// <summary>The hash to look up next: realtime before scheduled, newest first.</summary>
    public string? NextHash()
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT hash FROM lookups WHERE state = 0 ORDER BY priority, id DESC LIMIT 1";
            return command.ExecuteScalar() as string;
        }
    }

    public IReadOnlyList<(long Id, FileAlert File)> Pending(string hash)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                SELECT id, priority, alert_id, agent_id, agent_name, agent_ip, path, md5, sha1, sha256
                FROM lookups WHERE hash = $hash AND state = 0 ORDER BY id
                """;
            command.Parameters.AddWithValue("$hash", hash);
            using var reader = command.ExecuteReader();
            var rows = new List<(long, FileAlert)>();
            while (reader.Read())
            {
                rows.Add((reader.GetInt64(0), new FileAlert
                {
                    IsRealtime = reader.GetInt32(1) == 0,
                    AlertId = reader.GetString(2),
                    Agent = new AgentIdentity(reader.GetString(3), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5)),
                    Path = reader.GetString(6),
                    Md5 = reader.IsDBNull(7) ? null : reader.GetString(7),
                    Sha1 = reader.IsDBNull(8) ? null : reader.GetString(8),
                    Sha256 = reader.IsDBNull(9) ? null : reader.GetString(9),
                }));
            }

            return rows;
        }
    }

    public int PendingCount()
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM lookups WHERE state = 0";
            return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    public int FailedCount()
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM lookups WHERE state = 1";
            return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Removes a lookup whose result event has been published.</summary>
    public void Complete(long id) => ExecuteWithId("DELETE FROM lookups WHERE id = $id", id);

    /// <summary>Keeps a lookup that was given up on (state 1), for the operator to see; it is not retried.</summary>
    public void MarkFailed(long id) => ExecuteWithId("UPDATE lookups SET state = 1 WHERE id = $id", id);

    public int IncrementAttempts(string hash)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                INSERT INTO attempts(hash, count) VALUES($hash, 1) ON CONFLICT(hash) DO UPDATE SET count = count + 1;
                SELECT count FROM attempts WHERE hash = $hash;
                """;
            command.Parameters.AddWithValue("$hash", hash);
            return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    public void ClearAttempts(string hash)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "DELETE FROM attempts WHERE hash = $hash";
            command.Parameters.AddWithValue("$hash", hash);
            command.ExecuteNonQuery();
        }
    }

    // ---- verdict cache -----------------------------------------------------------------------------------

    public void PutVerdict(FileVerdict verdict, DateTimeOffset expires)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                INSERT INTO verdicts(lookup_hash, sha256, md5, expires_ms, body) VALUES($key, $sha256, $md5, $expires, $body)
                ON CONFLICT(lookup_hash) DO UPDATE SET sha256 = $sha256, md5 = $md5, expires_ms = $expires, body = $body
                """;
            command.Parameters.AddWithValue("$key", verdict.LookupHash);
            command.Parameters.AddWithValue("$sha256", (object?)verdict.Sha256?.ToLowerInvariant() ?? DBNull.Value);
            command.Parameters.AddWithValue("$md5", (object?)verdict.Md5?.ToLowerInvariant() ?? DBNull.Value);
            command.Parameters.AddWithValue("$expires", expires.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$body", JsonSerializer.Serialize(verdict, IntelJsonContext.Default.FileVerdict));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Every hash (lookup key, SHA-256, MD5, lower case) of a verdict not expired at <paramref name="now"/>, when there
    /// are at most <paramref name="limit"/> such verdicts; null when there are more (then each hash is asked).
    /// </summary>
    public HashSet<string>? StoredHashes(DateTimeOffset now, int limit)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT lookup_hash, sha256, md5 FROM verdicts WHERE expires_ms > $now LIMIT $limit";
            command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$limit", limit + 1L);
            using var reader = command.ExecuteReader();
            var hashes = new HashSet<string>(StringComparer.Ordinal);
            var rows = 0;
            while (reader.Read())
            {
                if (++rows > limit)
                {
                    return null;
                }

                for (var column = 0; column < 3; column++)
                {
                    if (!reader.IsDBNull(column))
                    {
                        hashes.Add(reader.GetString(column).ToLowerInvariant());
                    }
                }
            }

            return hashes;
        }
    }

    /// <summary>A verdict for this hash (SHA-256 or MD5) that has not expired at <paramref name="now"/>.</summary>
    public (FileVerdict Verdict, DateTimeOffset Expires)? TryGetVerdict(string hash, DateTimeOffset now)
    {
        lock (_lock)
        {
            // Asked once per scanned file: the statement is prepared once and kept.
            if (_verdictQuery is null)
            {
                _verdictQuery = _connection.CreateCommand();
                _verdictQuery.CommandText = """
                    SELECT body, expires_ms FROM verdicts
                    WHERE (lookup_hash = $h OR sha256 = $h OR md5 = $h) AND expires_ms > $now
                    ORDER BY expires_ms DESC LIMIT 1
                    """;
                _verdictQuery.Parameters.Add("$h", SqliteType.Text);
                _verdictQuery.Parameters.Add("$now", SqliteType.Integer);
                _verdictQuery.Prepare();
            }

            _verdictQuery.Parameters[0].Value = hash;
            _verdictQuery.Parameters[1].Value = now.ToUnixTimeMilliseconds();
            using var reader = _verdictQuery.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            var verdict = JsonSerializer.Deserialize(reader.GetString(0), IntelJsonContext.Default.FileVerdict);
            return verdict is null ? null : (verdict, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
        }
    }

    // ---- request log (quota) -----------------------------------------------------------------------------

    /// <summary>
    /// Logs a request about to be sent, counted at <paramref name="at"/> (a moment ahead while it is in flight) until
    /// <see cref="AnsweredRequest"/> moves it; returns its id.
    /// </summary>
    public long RecordRequest(DateTimeOffset at)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            // Keep two days: enough for the daily window, small forever.
            command.CommandText = "DELETE FROM requests WHERE ts_ms < $old; INSERT INTO requests(ts_ms) VALUES($ts); SELECT last_insert_rowid()";
            command.Parameters.AddWithValue("$ts", at.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$old", at.AddDays(-2).ToUnixTimeMilliseconds());
            return (long)command.ExecuteScalar()!;
        }
    }

    /// <summary>The request <paramref name="id"/> is over: it counts from <paramref name="at"/>.</summary>
    public void AnsweredRequest(long id, DateTimeOffset at)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "UPDATE requests SET ts_ms = $ts WHERE rowid = $id";
            command.Parameters.AddWithValue("$ts", at.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$id", id);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>How many requests were sent at or after <paramref name="since"/>, and the earliest of them.</summary>
    public (int Count, DateTimeOffset? Oldest) RequestsSince(DateTimeOffset since)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*), MIN(ts_ms) FROM requests WHERE ts_ms >= $since";
            command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
            using var reader = command.ExecuteReader();
            reader.Read();
            var count = reader.GetInt32(0);
            return (count, count == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
        }
    }

    // ---- state -------------------------------------------------------------------------------------------

    public string? GetState(string key)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT value FROM state WHERE key = $key";
            command.Parameters.AddWithValue("$key", key);
            return command.ExecuteScalar() as string;
        }
    }

    public void SetState(string key, string? value)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = value is null
                ? "DELETE FROM state WHERE key = $key"
                : "INSERT INTO state(key, value) VALUES($key, $value) ON CONFLICT(key) DO UPDATE SET value = $value";
            command.Parameters.AddWithValue("$key", key);
            if (value is not null)
            {
                command.Parameters.AddWithValue("$value", value);
            }

            command.ExecuteNonQuery();
        }
    }

    public void Dispose()
    {
        _verdictQuery?.Dispose();
        _connection.Dispose();
    }

    private void Execute(string sql)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }
    }

    private void ExecuteWithId(string sql, long id)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("$id", id);
            command.ExecuteNonQuery();
        }
    }
}

[JsonSerializable(typeof(FileVerdict))]
internal sealed partial class IntelJsonContext : JsonSerializerContext
{
}
