using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Vigil.Response.Quarantine;

/// <summary>
/// The quarantine records and restore exemptions, in SQLite (WAL, one connection per operation, no shared
/// cache: shared-cache mode takes table locks that fail concurrent readers).
/// </summary>
internal sealed class QuarantineStore
{
    private readonly string _connectionString;
    private readonly TimeProvider _timeProvider;

    public QuarantineStore(string databasePath, TimeProvider timeProvider)
    {
        DatabasePath = databasePath;
        _timeProvider = timeProvider;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        using var connection = Open();
        Execute(connection, """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=FULL;
            CREATE TABLE IF NOT EXISTS quarantine (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                original_path TEXT NOT NULL,
                vault_path TEXT NOT NULL,
                action TEXT NOT NULL,
                state TEXT NOT NULL,
                uid INTEGER NOT NULL, gid INTEGER NOT NULL, mode INTEGER NOT NULL, size INTEGER NOT NULL,
                atime_s INTEGER NOT NULL, atime_ns INTEGER NOT NULL, mtime_s INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                dev INTEGER NOT NULL, ino INTEGER NOT NULL,
                md5 TEXT NOT NULL, sha1 TEXT NOT NULL, sha256 TEXT NOT NULL,
                alert_id TEXT, rule_id TEXT, description TEXT, agent_id TEXT, agent_name TEXT,
                quarantined_at INTEGER NOT NULL, updated_at INTEGER, restored_to TEXT);
            CREATE INDEX IF NOT EXISTS quarantine_path ON quarantine(original_path);
            CREATE TABLE IF NOT EXISTS restore_exemptions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                path TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                quarantine_id INTEGER,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                revoked_at INTEGER);
            CREATE INDEX IF NOT EXISTS restore_exemptions_file ON restore_exemptions(path, sha256);
            """);
        MigrateHashOnlyExemptions(connection);
    }

    public string DatabasePath { get; }

    public QuarantineRecord Add(QuarantineRecord record)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO quarantine (original_path, vault_path, action, state, uid, gid, mode, size,
                atime_s, atime_ns, mtime_s, mtime_ns, dev, ino, md5, sha1, sha256,
                alert_id, rule_id, description, agent_id, agent_name, quarantined_at)
            VALUES ($path, $vault, $action, $state, $uid, $gid, $mode, $size,
                $atime_s, $atime_ns, $mtime_s, $mtime_ns, $dev, $ino, $md5, $sha1, $sha256,
                $alert, $rule, $description, $agent_id, $agent_name, $at)
            RETURNING id;
            """;
        var p = command.Parameters;
        p.AddWithValue("$path", record.OriginalPath);
        p.AddWithValue("$vault", record.VaultPath);
        p.AddWithValue("$action", ToText(record.Action));
        p.AddWithValue("$state", ToText(record.State));
        p.AddWithValue("$uid", (long)record.Uid);
        p.AddWithValue("$gid", (long)record.Gid);
        p.AddWithValue("$mode", (long)record.Mode);
        p.AddWithValue("$size", record.Size);
        p.AddWithValue("$atime_s", record.AtimeSeconds);
        p.AddWithValue("$atime_ns", record.AtimeNanoseconds);
        p.AddWithValue("$mtime_s", record.MtimeSeconds);
        p.AddWithValue("$mtime_ns", record.MtimeNanoseconds);
        p.AddWithValue("$dev", unchecked((long)record.Device));
        p.AddWithValue("$ino", unchecked((long)record.Inode));
        p.AddWithValue("$md5", record.Md5);
        p.AddWithValue("$sha1", record.Sha1);
        p.AddWithValue("$sha256", record.Sha256);
        p.AddWithValue("$alert", (object?)record.AlertId ?? DBNull.Value);
        p.AddWithValue("$rule", (object?)record.RuleId ?? DBNull.Value);
        p.AddWithValue("$description", (object?)record.Description ?? DBNull.Value);
        p.AddWithValue("$agent_id", (object?)record.AgentId ?? DBNull.Value);
        p.AddWithValue("$agent_name", (object?)record.AgentName ?? DBNull.Value);
        p.AddWithValue("$at", record.QuarantinedAt.ToUnixTimeMilliseconds());
        var id = (long)command.ExecuteScalar()!;
        return record with { Id = id };
    }

    public QuarantineRecord? Get(long id) => Query("WHERE id = $id", ("$id", id)).FirstOrDefault();

    /// <summary>Every record, newest first.</summary>
    public IReadOnlyList<QuarantineRecord> List() => Query("ORDER BY id DESC");

    /// <summary>The newest record for a path, or null.</summary>
    public QuarantineRecord? LatestFor(string originalPath) =>
        Query("WHERE original_path = $path ORDER BY id DESC LIMIT 1", ("$path", originalPath)).FirstOrDefault();

    /// <summary>The record a response for this alert and path made, or null: the same response run again finds it.</summary>
    public QuarantineRecord? ForAlert(string alertId, string originalPath) =>
        Query("WHERE alert_id = $alert AND original_path = $path ORDER BY id DESC LIMIT 1", ("$alert", alertId), ("$path", originalPath)).FirstOrDefault();

    /// <summary>Records still in the vault that were quarantined before <paramref name="cutoff"/>.</summary>
    public IReadOnlyList<QuarantineRecord> QuarantinedBefore(DateTimeOffset cutoff) =>
        Query("WHERE state = 'quarantined' AND quarantined_at < $cutoff ORDER BY id", ("$cutoff", cutoff.ToUnixTimeMilliseconds()));

    /// <summary>Forgets a record (a pending removal that did not happen).</summary>
    public void Remove(long id)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM quarantine WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        command.ExecuteNonQuery();
    }

    public void SetState(long id, QuarantineState state, string? restoredTo = null)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE quarantine SET state = $state, updated_at = $at, restored_to = coalesce($to, restored_to) WHERE id = $id";
        command.Parameters.AddWithValue("$state", ToText(state));
        command.Parameters.AddWithValue("$at", _timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$to", (object?)restoredTo ?? DBNull.Value);
        command.Parameters.AddWithValue("$id", id);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Records that the file at <paramref name="path"/> with this SHA-256 must not be removed again until
    /// <paramref name="lifetime"/> has passed (the operator restored it there). Another path with the same content,
    /// or this path with other content, is not exempt. Returns the exemption's id.
    /// </summary>
    public long AddExemption(string path, string sha256, long quarantineId, TimeSpan lifetime)
    {
        var now = _timeProvider.GetUtcNow();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO restore_exemptions (path, sha256, quarantine_id, created_at, expires_at)
            VALUES ($path, $sha, $id, $at, $expires) RETURNING id
            """;
        command.Parameters.AddWithValue("$path", path);
        command.Parameters.AddWithValue("$sha", sha256.ToLowerInvariant());
        command.Parameters.AddWithValue("$id", quarantineId);
        command.Parameters.AddWithValue("$at", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$expires", (now + lifetime).ToUnixTimeMilliseconds());
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Whether a restore exempted this file (this path with this SHA-256) from removal, and it has not expired nor been revoked.</summary>
    public bool IsExempt(string path, string sha256)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT 1 FROM restore_exemptions
            WHERE path = $path AND sha256 = $sha AND revoked_at IS NULL AND expires_at > $now LIMIT 1
            """;
        command.Parameters.AddWithValue("$path", path);
        command.Parameters.AddWithValue("$sha", sha256.ToLowerInvariant());
        command.Parameters.AddWithValue("$now", _timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        return command.ExecuteScalar() is not null;
    }

    /// <summary>Every exemption, newest first (expired and revoked ones included, marked as such).</summary>
    public IReadOnlyList<RestoreExemption> Exemptions()
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, path, sha256, quarantine_id, created_at, expires_at, revoked_at FROM restore_exemptions ORDER BY id DESC";
        using var reader = command.ExecuteReader();
        var now = _timeProvider.GetUtcNow();
        var result = new List<RestoreExemption>();
        while (reader.Read())
        {
            var expires = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5));
            DateTimeOffset? revoked = reader.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6));
            result.Add(new RestoreExemption(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetInt64(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), expires, revoked,
                revoked is not null ? "revoked" : expires <= now ? "expired" : "active"));
        }

        return result;
    }

    /// <summary>Ends an exemption now; false when there is no active exemption with this id.</summary>
    public bool RevokeExemption(long id)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE restore_exemptions SET revoked_at = $now WHERE id = $id AND revoked_at IS NULL AND expires_at > $now";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$now", _timeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>Removes an exemption written for a restore that then failed.</summary>
    public void DeleteExemption(long id)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM restore_exemptions WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        command.ExecuteNonQuery();
    }

    // Earlier versions exempted a hash everywhere and forever: each such row becomes an exemption for the path the
    // file was restored to, for the default lifetime from now.
    private void MigrateHashOnlyExemptions(SqliteConnection connection)
    {
        using var exists = connection.CreateCommand();
        exists.CommandText = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'exemptions'";
        if (exists.ExecuteScalar() is null)
        {
            return;
        }

        var now = _timeProvider.GetUtcNow();
        using var transaction = connection.BeginTransaction();
        using var copy = connection.CreateCommand();
        copy.Transaction = transaction;
        copy.CommandText = """
            INSERT INTO restore_exemptions (path, sha256, quarantine_id, created_at, expires_at)
            SELECT coalesce(q.restored_to, q.original_path), e.sha256, e.quarantine_id, e.created_at, $expires
            FROM exemptions e JOIN quarantine q ON q.id = e.quarantine_id;
            DROP TABLE exemptions;
            """;
        copy.Parameters.AddWithValue("$expires", (now + QuarantineOptions.DefaultExemptionLifetime).ToUnixTimeMilliseconds());
        copy.ExecuteNonQuery();
        transaction.Commit();
    }

    private IReadOnlyList<QuarantineRecord> Query(string where, params (string Name, object Value)[] parameters)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM quarantine " + where;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        using var reader = command.ExecuteReader();
        var records = new List<QuarantineRecord>();
        while (reader.Read())
        {
            records.Add(new QuarantineRecord
            {
                Id = reader.GetInt64(reader.GetOrdinal("id")),
                OriginalPath = reader.GetString(reader.GetOrdinal("original_path")),
                VaultPath = reader.GetString(reader.GetOrdinal("vault_path")),
                Action = reader.GetString(reader.GetOrdinal("action")) == "delete" ? QuarantineAction.Delete : QuarantineAction.Quarantine,
                State = Enum.Parse<QuarantineState>(reader.GetString(reader.GetOrdinal("state")), ignoreCase: true),
                Uid = (uint)reader.GetInt64(reader.GetOrdinal("uid")),
                Gid = (uint)reader.GetInt64(reader.GetOrdinal("gid")),
                Mode = (uint)reader.GetInt64(reader.GetOrdinal("mode")),
                Size = reader.GetInt64(reader.GetOrdinal("size")),
                AtimeSeconds = reader.GetInt64(reader.GetOrdinal("atime_s")),
                AtimeNanoseconds = reader.GetInt64(reader.GetOrdinal("atime_ns")),
                MtimeSeconds = reader.GetInt64(reader.GetOrdinal("mtime_s")),
                MtimeNanoseconds = reader.GetInt64(reader.GetOrdinal("mtime_ns")),
                Device = unchecked((ulong)reader.GetInt64(reader.GetOrdinal("dev"))),
                Inode = unchecked((ulong)reader.GetInt64(reader.GetOrdinal("ino"))),
                Md5 = reader.GetString(reader.GetOrdinal("md5")),
                Sha1 = reader.GetString(reader.GetOrdinal("sha1")),
                Sha256 = reader.GetString(reader.GetOrdinal("sha256")),
                AlertId = NullableString(reader, "alert_id"),
                RuleId = NullableString(reader, "rule_id"),
                Description = NullableString(reader, "description"),
                AgentId = NullableString(reader, "agent_id"),
                AgentName = NullableString(reader, "agent_name"),
                QuarantinedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(reader.GetOrdinal("quarantined_at"))),
                UpdatedAt = reader.IsDBNull(reader.GetOrdinal("updated_at"))
                    ? null
                    : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(reader.GetOrdinal("updated_at"))),
                RestoredTo = NullableString(reader, "restored_to"),
            });
        }

        return records;
    }

    private static string? NullableString(SqliteDataReader reader, string column)
    {
        var ordinal = reader.GetOrdinal(column);
        return reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
    }

    private static string ToText(QuarantineAction action) => action == QuarantineAction.Delete ? "delete" : "quarantine";

    private static string ToText(QuarantineState state) => state.ToString().ToLower(CultureInfo.InvariantCulture);

    // sqlite3.h: SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE.
    private const int NoCheckpointOnClose = 1006;

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout=30000;");

        // The last connection to close would checkpoint the WAL into the database and delete it: two more fsyncs
        // and an unlink in every remove-threat process, after its commits are already durable in the WAL. The WAL
        // stays instead; SQLite checkpoints it as it grows (every 1,000 pages) and the next opener reads it.
        _ = SQLitePCL.raw.sqlite3_db_config(connection.Handle, NoCheckpointOnClose, 1, out _);
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>A restore's exemption: this path with this SHA-256 is not removed again until it expires or is revoked.</summary>
internal sealed record RestoreExemption(
    long Id, string Path, string Sha256, long? QuarantineId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, string State);
