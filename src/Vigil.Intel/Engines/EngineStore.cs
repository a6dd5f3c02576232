using Microsoft.Data.Sqlite;
using Vigil.Core;

namespace Vigil.Intel.Engines;

/// <summary>
/// An engine's SQLite store: the files waiting for it (kept until it answered, so a clamd that is down loses
/// nothing, across restarts too), and its verdicts by SHA-256 and engine version (a rules or database change makes
/// every earlier verdict a miss). One connection, serialised by a lock.
/// </summary>
internal sealed class EngineStore : IDisposable
{
    /// <summary>Verdicts kept in memory as well: a repeated content is answered without SQLite (or its lock).</summary>
    private const int MemoryLimit = 65_536;

    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Sha256, string Engine, string Version), EngineResult> _memory = new();

    private EngineStore(SqliteConnection connection) => _connection = connection;

    public static EngineStore Open(string path)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
            connection.Open();
            var store = new EngineStore(connection);
            store.Execute("""
                PRAGMA journal_mode=WAL;
                PRAGMA synchronous=NORMAL;
                PRAGMA busy_timeout=5000;
                CREATE TABLE IF NOT EXISTS pending(id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, alert TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS verdicts(
                    sha256 TEXT NOT NULL, engine TEXT NOT NULL, version TEXT NOT NULL,
                    outcome INTEGER NOT NULL, name TEXT, tags TEXT, PRIMARY KEY(sha256, engine, version));
                CREATE TABLE IF NOT EXISTS retro_scan(
                    id INTEGER PRIMARY KEY CHECK (id = 1), version TEXT NOT NULL, cursor_path TEXT, cursor_mtime INTEGER,
                    done INTEGER NOT NULL, total INTEGER NOT NULL, found INTEGER NOT NULL, finished INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS engine_state(
                    id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL, version TEXT, state TEXT NOT NULL, problem TEXT,
                    cache_hits INTEGER NOT NULL, scans INTEGER NOT NULL, updated TEXT NOT NULL);
                """);
            return store;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new VigilException($"engine store {path}: {ex.Message}", isFatal: true, ex);
        }
    }

    /// <summary>Queues a file's alert; a key already queued (an alert handed again after a crash) is not queued twice.</summary>
    public void Enqueue(string alertJson, string? key)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT OR IGNORE INTO pending(key, alert) VALUES ($key, $alert)";
            command.Parameters.AddWithValue("$key", (object?)key ?? DBNull.Value);
            command.Parameters.AddWithValue("$alert", alertJson);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>The oldest waiting files, up to <paramref name="limit"/>.</summary>
    public IReadOnlyList<(long Id, string Alert)> Pending(int limit)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, alert FROM pending ORDER BY id LIMIT $limit";
            command.Parameters.AddWithValue("$limit", limit);
            using var reader = command.ExecuteReader();
            var rows = new List<(long, string)>();
            while (reader.Read())
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1)));
            }

            return rows;
        }
    }

    public int PendingCount()
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM pending";
            return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    public void Complete(long id)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "DELETE FROM pending WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            command.ExecuteNonQuery();
        }
    }

    public EngineResult? TryGetVerdict(string sha256, string engine, string version)
    {
        if (_memory.TryGetValue((sha256, engine, version), out var remembered))
        {
            return remembered;
        }

        var stored = TryReadVerdict(sha256, engine, version);
        if (stored is not null)
        {
            Remember(sha256, stored);
        }

        return stored;
    }

    private void Remember(string sha256, EngineResult result)
    {
        if (_memory.Count >= MemoryLimit)
        {
            _memory.Clear(); // bounded; what was forgotten is still in SQLite
        }

        _memory[(sha256, result.Engine, result.Version ?? "")] = result;
    }

    private EngineResult? TryReadVerdict(string sha256, string engine, string version)
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT outcome, name, tags FROM verdicts WHERE sha256 = $sha256 AND engine = $engine AND version = $version";
            command.Parameters.AddWithValue("$sha256", sha256);
            command.Parameters.AddWithValue("$engine", engine);
            command.Parameters.AddWithValue("$version", version);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            var tags = reader.IsDBNull(2) ? null : reader.GetString(2).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return new EngineResult(engine, version, (EngineOutcome)reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetString(1), tags);
        }
    }

    public void PutVerdict(string sha256, EngineResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Remember(sha256, result with { Tags = result.Tags is { Count: > 0 } ? result.Tags : null, Detail = null }); // as SQLite gives it back
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT OR REPLACE INTO verdicts(sha256, engine, version, outcome, name, tags) VALUES ($sha256, $engine, $version, $outcome, $name, $tags)";
            command.Parameters.AddWithValue("$sha256", sha256);
            command.Parameters.AddWithValue("$engine", result.Engine);
            command.Parameters.AddWithValue("$version", result.Version);
            command.Parameters.AddWithValue("$outcome", (int)result.Outcome);
            command.Parameters.AddWithValue("$name", (object?)result.Name ?? DBNull.Value);
            command.Parameters.AddWithValue("$tags", result.Tags is { Count: > 0 } tags ? string.Join('\n', tags) : DBNull.Value);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>The retro-scan recorded last (null before the first), so a restart continues where it stopped.</summary>
    public RetroScanState? RetroScan()
    {
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT version, cursor_path, cursor_mtime, done, total, found, finished FROM retro_scan WHERE id = 1";
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            var cursor = reader.IsDBNull(1) ? (Core.Baseline.BaselineFile?)null : new Core.Baseline.BaselineFile(reader.GetString(1), reader.GetInt64(2));
            return new RetroScanState(reader.GetString(0), cursor, reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5), reader.GetInt32(6) != 0);
        }
    }

    public void SaveRetroScan(RetroScanState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                INSERT OR REPLACE INTO retro_scan(id, version, cursor_path, cursor_mtime, done, total, found, finished)
                VALUES (1, $version, $path, $mtime, $done, $total, $found, $finished)
                """;
            command.Parameters.AddWithValue("$version", state.Version);
            command.Parameters.AddWithValue("$path", (object?)state.Cursor?.Path ?? DBNull.Value);
            command.Parameters.AddWithValue("$mtime", (object?)state.Cursor?.Mtime ?? DBNull.Value);
            command.Parameters.AddWithValue("$done", state.Done);
            command.Parameters.AddWithValue("$total", state.Total);
            command.Parameters.AddWithValue("$found", state.Found);
            command.Parameters.AddWithValue("$finished", state.IsFinished ? 1 : 0);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Records the engine's state for `vigil status`, which reads it from another process.</summary>
    public void SaveState(EngineStatus status, DateTimeOffset updated)
    {
        ArgumentNullException.ThrowIfNull(status);
        lock (_lock)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                INSERT OR REPLACE INTO engine_state(id, name, version, state, problem, cache_hits, scans, updated)
                VALUES (1, $name, $version, $state, $problem, $hits, $scans, $updated)
                """;
            command.Parameters.AddWithValue("$name", status.Name);
            command.Parameters.AddWithValue("$version", (object?)status.Version ?? DBNull.Value);
            command.Parameters.AddWithValue("$state", status.State);
            command.Parameters.AddWithValue("$problem", (object?)status.Problem ?? DBNull.Value);
            command.Parameters.AddWithValue("$hits", status.CacheHits);
            command.Parameters.AddWithValue("$scans", status.Scans);
            command.Parameters.AddWithValue("$updated", updated.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// The state an engine last recorded in the store at <paramref name="path"/>, read without writing (the engine may
    /// be running in another process); null when the file is not an engine store or has no state yet.
    /// </summary>
    public static (EngineStatus Status, DateTimeOffset Updated)? TryReadState(string path)
    {
        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT name, version, state, problem, cache_hits, scans, updated, (SELECT COUNT(*) FROM pending) FROM engine_state WHERE id = 1";
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            var status = new EngineStatus(
                reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetInt32(7), reader.GetInt64(4), reader.GetInt64(5));
            var updated = DateTimeOffset.Parse(reader.GetString(6), System.Globalization.CultureInfo.InvariantCulture);
            reader.Close();
            using var retro = connection.CreateCommand();
            retro.CommandText = "SELECT version, cursor_path, cursor_mtime, done, total, found, finished FROM retro_scan WHERE id = 1";
            using var row = retro.ExecuteReader();
            if (row.Read())
            {
                var cursor = row.IsDBNull(1) ? (Core.Baseline.BaselineFile?)null : new Core.Baseline.BaselineFile(row.GetString(1), row.GetInt64(2));
                status = status with { RetroScan = new RetroScanState(row.GetString(0), cursor, row.GetInt32(3), row.GetInt32(4), row.GetInt32(5), row.GetInt32(6) != 0) };
            }

            return (status, updated);
        }
        catch (SqliteException)
        {
            return null; // not an engine store (another intelligence database), or one from before engine_state
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();
}
