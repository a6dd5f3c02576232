using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Vigil.Core;
using Vigil.Transport.Registry;

namespace Vigil.Storage.Postgres;

/// <summary>
/// The agent registry every manager on the database shares: an agent enrolled on one is known to all, and one
/// removed on any is refused by all (each manager reads the row when an agent connects and at each keep-alive).
/// Ids come from a sequence, so two managers enrolling at once never hand out the same id, and are never reused.
/// Also holds the per-agent replay watermarks, so a manager an agent moves to knows what another acknowledged.
/// </summary>
internal sealed class PostgresAgentDirectory(PostgresDatabase database, string managerName, ILogger logger) : IAgentDirectory
{
    private NpgsqlDataSource Source => database.Source;

    public string? TryAdd(string name, string? address, string? version, Func<string, string> thumbprintForId) => Run(() =>
    {
        using var connection = Source.OpenConnection();
        using var transaction = connection.BeginTransaction();
        long next;
        using (var sequence = new NpgsqlCommand("SELECT nextval('agent_ids')", connection, transaction))
        {
            next = Convert.ToInt64(sequence.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        var id = next.ToString("D3", CultureInfo.InvariantCulture);
        using var insert = new NpgsqlCommand(
            "INSERT INTO agents(id, name, address, version, status, thumbprint, enrolled_by) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) WHERE status <> 'removed' DO NOTHING",
            connection,
            transaction);
        insert.Parameters.Add(Text(id));
        insert.Parameters.Add(Text(name));
        insert.Parameters.Add(Text(address));
        insert.Parameters.Add(Text(version));
        insert.Parameters.Add(Text(AgentStatus.NeverConnected));
        insert.Parameters.Add(Text(thumbprintForId(id)));
        insert.Parameters.Add(Text(managerName));
        if (insert.ExecuteNonQuery() == 0)
        {
            return null;
        }

        transaction.Commit();
        return id;
    });

    public AgentRecord? Find(string id) => Query("WHERE id = $1", id).FirstOrDefault();

    public IReadOnlyList<AgentRecord> List() => Query("", null);

    public bool Remove(string id) => Run(() =>
        Execute("UPDATE agents SET status = 'removed' WHERE id = $1 AND status <> 'removed'", Text(id)) > 0);

    // Status and keep-alives are what `vigil agents list` shows, not what admits an agent: while the database is
    // down they are not recorded, and the connection goes on.
    public void Touch(string id, string status, string? address, string? version, DateTimeOffset when) => BestEffort(id, () =>
        Execute(
            "UPDATE agents SET status = $1, address = COALESCE($2, address), version = COALESCE($3, version), last_keepalive = $4 WHERE id = $5 AND status <> 'removed'",
            Text(status), Text(address), Text(version), new NpgsqlParameter { Value = when.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz }, Text(id)));

    public void SetStatus(string id, string status) => BestEffort(id, () =>
        Execute("UPDATE agents SET status = $1 WHERE id = $2 AND status <> 'removed'", Text(status), Text(id)));

    /// <summary>The last sequence of this agent's events whose alerts some manager durably wrote; 0 for none.</summary>
    public ulong Watermark(string agentId) => Run(() =>
    {
        using var connection = Source.OpenConnection();
        using var command = new NpgsqlCommand("SELECT sequence FROM agent_watermarks WHERE agent_id = $1", connection);
        command.Parameters.Add(Text(agentId));
        return command.ExecuteScalar() is long sequence ? (ulong)sequence : 0UL;
    });

    /// <summary>Raises the agents' watermarks (never lowers one), in one transaction.</summary>
    public void SaveWatermarks(IEnumerable<KeyValuePair<string, ulong>> watermarks) => Run(() =>
    {
        using var connection = Source.OpenConnection();
        using var transaction = connection.BeginTransaction();
        RaiseWatermarks(connection, transaction, watermarks);
        transaction.Commit();
        return true;
    });

    /// <summary>
    /// A manager's analysis commit, in one transaction: the agents' watermarks raised, and where its alert files end
    /// with what its local commit will hold (<paramref name="payload"/>), to be redone at its next start if it dies
    /// before making the local commit.
    /// </summary>
    public void CommitBatch(IEnumerable<KeyValuePair<string, ulong>> watermarks, (long Json, long Log) alertEnds, string payload) => Run(() =>
    {
        using var connection = Source.OpenConnection();
        using var transaction = connection.BeginTransaction();
        RaiseWatermarks(connection, transaction, watermarks);
        using var command = new NpgsqlCommand(
            """
            INSERT INTO manager_commits(manager, json_end, log_end, payload) VALUES ($1, $2, $3, $4)
            ON CONFLICT (manager) DO UPDATE SET json_end = excluded.json_end, log_end = excluded.log_end, payload = excluded.payload, committed_at = now()
            """,
            connection,
            transaction);
        command.Parameters.Add(Text(managerName));
        command.Parameters.Add(new NpgsqlParameter { Value = alertEnds.Json, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = alertEnds.Log, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(Text(payload));
        command.ExecuteNonQuery();
        transaction.Commit();
        return true;
    });

    /// <summary>This manager's last analysis commit in the database, or null.</summary>
    public (long Json, long Log, string Payload)? LastCommit() => Run<(long, long, string)?>(() =>
    {
        using var connection = Source.OpenConnection();
        using var command = new NpgsqlCommand("SELECT json_end, log_end, payload FROM manager_commits WHERE manager = $1", connection);
        command.Parameters.Add(Text(managerName));
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2)) : null;
    });

    private void RaiseWatermarks(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<KeyValuePair<string, ulong>> watermarks)
    {
        foreach (var (agent, sequence) in watermarks)
        {
            using var command = new NpgsqlCommand(
                """
                INSERT INTO agent_watermarks(agent_id, sequence, manager) VALUES ($1, $2, $3)
                ON CONFLICT (agent_id) DO UPDATE SET sequence = excluded.sequence, manager = excluded.manager, updated_at = now()
                WHERE excluded.sequence > agent_watermarks.sequence
                """,
                connection,
                transaction);
            command.Parameters.Add(Text(agent));
            command.Parameters.Add(new NpgsqlParameter { Value = (long)sequence, NpgsqlDbType = NpgsqlDbType.Bigint });
            command.Parameters.Add(Text(managerName));
            command.ExecuteNonQuery();
        }
    }

    private List<AgentRecord> Query(string where, string? id) => Run(() =>
    {
        using var connection = Source.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT id, name, address, version, status, last_keepalive, thumbprint FROM agents {where} ORDER BY id", connection);
        if (id is not null)
        {
            command.Parameters.Add(Text(id));
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
                reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
                reader.GetString(6)));
        }

        return result;
    });

    private int Execute(string sql, params NpgsqlParameter[] parameters)
    {
        using var connection = Source.OpenConnection();
        using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters);
        return command.ExecuteNonQuery();
    }

    private void BestEffort(string id, Func<int> action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            PostgresLog.StatusNotRecorded(logger, id, ex.Message);
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
            throw new VigilException($"shared database {database.Display} unavailable: {ex.Message}", isFatal: false, ex);
        }
    }

    internal static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };
}
