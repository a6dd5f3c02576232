using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Vigil.Transport.Registry;

/// <summary>One enrolled agent, as `vigil agents list` shows it.</summary>
internal sealed record AgentRecord(
    string Id,
    string Name,
    string? Address,
    string? Version,
    string Status,
    DateTimeOffset? LastKeepAlive,
    string Thumbprint)
{
    public bool IsRemoved => Status == AgentStatus.Removed;
}

internal static class AgentStatus
{
    public const string NeverConnected = "never_connected";
    public const string Active = "active";
    public const string Disconnected = "disconnected";
    public const string Removed = "removed";
}

/// <summary>
/// The manager's agent registry (client.keys and global.db's role) in SQLite: ids are never reused, a removed agent
/// stays as a row with status "removed" so its certificate is refused forever. Also keeps, per agent, the last event
/// sequence whose alert is durably written (the replay watermark).
/// </summary>
internal sealed class AgentRegistry : IAgentDirectory, IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    public AgentRegistry(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("""
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=FULL;
            PRAGMA busy_timeout=5000;
            CREATE TABLE IF NOT EXISTS agents(
                id TEXT PRIMARY KEY, name TEXT NOT NULL, address TEXT, version TEXT, status TEXT NOT NULL,
                last_keepalive TEXT, thumbprint TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS watermarks(agent_id TEXT PRIMARY KEY, sequence INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, agent_id TEXT NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL, deadline_ms INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS alert_files(id INTEGER PRIMARY KEY CHECK (id = 1), json_end INTEGER NOT NULL, log_end INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS shared_commit(id INTEGER PRIMARY KEY CHECK (id = 1), commit_id TEXT NOT NULL);
            """);
    }

    public static string PathUnder(string dataDirectory) => Path.Combine(dataDirectory, "registry", "agents.db");

    /// <summary>Adds an agent and returns its new id ("001", "002", …); null when an active agent has that name.</summary>
    public string? TryAdd(string name, string? address, string? version, Func<string, string> thumbprintForId)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using (var exists = Command("SELECT COUNT(*) FROM agents WHERE name = $name AND status <> $removed", transaction))
            {
                exists.Parameters.AddWithValue("$name", name);
                exists.Parameters.AddWithValue("$removed", AgentStatus.Removed);
                if (Convert.ToInt64(exists.ExecuteScalar(), CultureInfo.InvariantCulture) > 0)
                {
                    return null;
                }
            }

            long next;
            using (var max = Command("SELECT COALESCE(MAX(CAST(id AS INTEGER)), 0) + 1 FROM agents", transaction))
            {
                next = Convert.ToInt64(max.ExecuteScalar(), CultureInfo.InvariantCulture);
            }

            var id = next.ToString("D3", CultureInfo.InvariantCulture);
            using var insert = Command("INSERT INTO agents(id, name, address, version, status, thumbprint) VALUES ($id, $name, $address, $version, $status, $thumbprint)", transaction);
            insert.Parameters.AddWithValue("$id", id);
            insert.Parameters.AddWithValue("$name", name);
            insert.Parameters.AddWithValue("$address", (object?)address ?? DBNull.Value);
            insert.Parameters.AddWithValue("$version", (object?)version ?? DBNull.Value);
            insert.Parameters.AddWithValue("$status", AgentStatus.NeverConnected);
            insert.Parameters.AddWithValue("$thumbprint", thumbprintForId(id));
            insert.ExecuteNonQuery();
            transaction.Commit();
            return id;
        }
    }

    public AgentRecord? Find(string id) => Query("WHERE id = $id", ("$id", id)).FirstOrDefault();

    public IReadOnlyList<AgentRecord> List() => Query("");

    /// <summary>Marks an agent removed; false when there is no such agent (or it was removed already).</summary>
    public bool Remove(string id) =>
        Update("UPDATE agents SET status = $status WHERE id = $id AND status <> $status", ("$status", AgentStatus.Removed), ("$id", id)) > 0;

    /// <summary>Records a connection or keep-alive of a known, not removed agent.</summary>
    public void Touch(string id, string status, string? address, string? version, DateTimeOffset when) =>
        Update(
            "UPDATE agents SET status = $status, address = COALESCE($address, address), version = COALESCE($version, version), last_keepalive = $when WHERE id = $id AND status <> $removed",
            ("$status", status), ("$address", address), ("$version", version), ("$when", when.ToString("O", CultureInfo.InvariantCulture)), ("$id", id), ("$removed", AgentStatus.Removed));

    public void SetStatus(string id, string status) =>
        Update("UPDATE agents SET status = $status WHERE id = $id AND status <> $removed", ("$status", status), ("$id", id), ("$removed", AgentStatus.Removed));

    public Dictionary<string, ulong> Watermarks()
    {
        lock (_gate)
        {
            using var command = Command("SELECT agent_id, sequence FROM watermarks", null);
            using var reader = command.ExecuteReader();
            var result = new Dictionary<string, ulong>(StringComparer.Ordinal);
            while (reader.Read())
            {
                result[reader.GetString(0)] = (ulong)reader.GetInt64(1);
            }

            return result;
        }
    }

    /// <summary>Where alerts.json and alerts.log ended at the last committed batch; null before the first commit.</summary>
    public (long Json, long Log)? CommittedAlertEnds()
    {
        lock (_gate)
        {
            using var command = Command("SELECT json_end, log_end FROM alert_files WHERE id = 1", null);
            using var reader = command.ExecuteReader();
            return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
        }
    }

    /// <summary>Stores the watermarks of a batch whose alerts are durably written, in one transaction.</summary>
    public void SaveWatermarks(IReadOnlyDictionary<string, ulong> watermarks) => SaveBatch(watermarks, null);

    /// <summary>
    /// Commits a batch whose alerts are durably written: its watermarks and where the alert files end after it, in
    /// one transaction. Alerts beyond those ends at the next start belong to a batch that was never committed.
    /// </summary>
    public void SaveBatch(IReadOnlyDictionary<string, ulong> watermarks, (long Json, long Log)? alertEnds) => SaveBatch(watermarks, alertEnds, []);

    /// <summary>
    /// As <see cref="SaveBatch(IReadOnlyDictionary{string, ulong}, ValueTuple{long, long}?)"/>, with the active
    /// responses the batch decided for agents, queued in each agent's outbox in the same transaction (so a response
    /// is queued exactly once, however often a crash makes the batch's events come again). Returns them with their ids.
    /// </summary>
    /// <remarks>
    /// <paramref name="sharedCommit"/>: the id of the same commit in a database several managers share, written
    /// before this one; see <see cref="SharedCommitId"/>.
    /// </remarks>
    public IReadOnlyList<OutboxResponse> SaveBatch(IReadOnlyDictionary<string, ulong> watermarks, (long Json, long Log)? alertEnds, IReadOnlyList<OutboxResponse> responses, string? sharedCommit = null)
    {
        var queued = new List<OutboxResponse>(responses.Count);
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            if (sharedCommit is not null)
            {
                using var command = Command("INSERT INTO shared_commit(id, commit_id) VALUES (1, $id) ON CONFLICT(id) DO UPDATE SET commit_id = excluded.commit_id", transaction);
                command.Parameters.AddWithValue("$id", sharedCommit);
                command.ExecuteNonQuery();
            }

            foreach (var response in responses)
            {
                using var command = Command("INSERT INTO outbox(agent_id, name, json, deadline_ms) VALUES ($agent, $name, $json, $deadline) RETURNING id", transaction);
                command.Parameters.AddWithValue("$agent", response.AgentId);
                command.Parameters.AddWithValue("$name", response.Name);
                command.Parameters.AddWithValue("$json", response.Json);
                command.Parameters.AddWithValue("$deadline", response.Deadline.ToUnixTimeMilliseconds());
                queued.Add(response with { Id = (ulong)Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) });
            }

            if (alertEnds is { } ends)
            {
                using var command = Command("INSERT INTO alert_files(id, json_end, log_end) VALUES (1, $json, $log) ON CONFLICT(id) DO UPDATE SET json_end = excluded.json_end, log_end = excluded.log_end", transaction);
                command.Parameters.AddWithValue("$json", ends.Json);
                command.Parameters.AddWithValue("$log", ends.Log);
                command.ExecuteNonQuery();
            }

            foreach (var (agent, sequence) in watermarks)
            {
                using var command = Command("INSERT INTO watermarks(agent_id, sequence) VALUES ($id, $seq) ON CONFLICT(agent_id) DO UPDATE SET sequence = MAX(sequence, excluded.sequence)", transaction);
                command.Parameters.AddWithValue("$id", agent);
                command.Parameters.AddWithValue("$seq", (long)sequence);
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        return queued;
    }

    /// <summary>The id of the last shared-database commit this registry's commit followed; null for none.</summary>
    public string? SharedCommitId()
    {
        lock (_gate)
        {
            using var command = Command("SELECT commit_id FROM shared_commit WHERE id = 1", null);
            return command.ExecuteScalar() as string;
        }
    }

    /// <summary>The responses waiting in an agent's outbox, oldest first.</summary>
    public IReadOnlyList<OutboxResponse> PendingResponses(string agentId)
    {
        lock (_gate)
        {
            using var command = Command("SELECT id, agent_id, name, json, deadline_ms FROM outbox WHERE agent_id = $agent ORDER BY id", null);
            command.Parameters.AddWithValue("$agent", agentId);
            return ReadResponses(command);
        }
    }

    /// <summary>Every response waiting in the outboxes of real agents (not the manager's own, 000, nor its lookups), oldest first.</summary>
    public IReadOnlyList<OutboxResponse> PendingAgentResponses()
    {
        lock (_gate)
        {
            using var command = Command("SELECT id, agent_id, name, json, deadline_ms FROM outbox WHERE agent_id <> '000' AND agent_id NOT LIKE 'intel:%' ORDER BY id", null);
            return ReadResponses(command);
        }
    }

    /// <summary>Forgets a response the agent carried out; false when it is not (or no longer) in that agent's outbox.</summary>
    public bool CompleteResponse(string agentId, ulong id)
    {
        lock (_gate)
        {
            using var command = Command("DELETE FROM outbox WHERE id = $id AND agent_id = $agent", null);
            command.Parameters.AddWithValue("$id", (long)id);
            command.Parameters.AddWithValue("$agent", agentId);
            return command.ExecuteNonQuery() > 0;
        }
    }

    /// <summary>Removes and returns the responses whose deadline has passed.</summary>
    public IReadOnlyList<OutboxResponse> TakeExpiredResponses(DateTimeOffset now)
    {
        lock (_gate)
        {
            using var command = Command("DELETE FROM outbox WHERE deadline_ms <= $now RETURNING id, agent_id, name, json, deadline_ms", null);
            command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            return ReadResponses(command);
        }
    }

    private static List<OutboxResponse> ReadResponses(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var result = new List<OutboxResponse>();
        while (reader.Read())
        {
            result.Add(new OutboxResponse(reader.GetString(1), reader.GetString(2), reader.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4))) { Id = (ulong)reader.GetInt64(0) });
        }

        return result;
    }

    private List<AgentRecord> Query(string where, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            using var command = Command($"SELECT id, name, address, version, status, last_keepalive, thumbprint FROM agents {where} ORDER BY id", null);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            using var reader = command.ExecuteReader();
            var result = new List<AgentRecord>();
            while (reader.Read())
            {
                result.Add(new AgentRecord(
                    reader.GetString(0),
                    reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.GetString(4),
                    reader.IsDBNull(5) ? null : DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture),
                    reader.GetString(6)));
            }

            return result;
        }
    }

    private int Update(string sql, params (string Name, object? Value)[] parameters)
    {
        lock (_gate)
        {
            using var command = Command(sql, null);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }

            return command.ExecuteNonQuery();
        }
    }

    private void Execute(string sql)
    {
        using var command = Command(sql, null);
        command.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, SqliteTransaction? transaction)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    public void Dispose() => _connection.Dispose();
}

/// <summary>An active response waiting in an agent's outbox until the agent says it carried it out, or its deadline.</summary>
internal sealed record OutboxResponse(string AgentId, string Name, string Json, DateTimeOffset Deadline)
{
    public ulong Id { get; init; }
}
