using Microsoft.Data.Sqlite;

namespace Vigil.Web.Index;

/// <summary>
/// The agents' quarantine records as the index sees them: kept up to date from the quarantine alerts, in the same
/// transaction as the alerts they come with, and read for the quarantine view and each file's detection chain.
/// </summary>
internal sealed class QuarantineProjection(string connectionString)
{
    /// <summary>Applies the change a quarantine alert carries, inside the writer's transaction.</summary>
    public static void Apply(SqliteConnection writer, SqliteTransaction transaction, AlertFields alert, QuarantineChange change)
    {
        using var command = writer.CreateCommand();
        command.Transaction = transaction;
        var at = alert.Timestamp.ToUnixTimeMilliseconds();
        if (change.State == QuarantineStates.Quarantined)
        {
            command.CommandText = """
                INSERT INTO quarantine(agent_id, qid, agent_name, path, sha256, state, alert_id, rule_id, quarantined_at, updated_at, restored_to)
                VALUES($agent, $qid, $name, $path, $sha256, $state, $alert_id, $rule_id, $at, $at, NULL)
                ON CONFLICT(agent_id, qid) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256, state = excluded.state,
                    alert_id = excluded.alert_id, rule_id = excluded.rule_id, quarantined_at = excluded.quarantined_at,
                    updated_at = excluded.updated_at, restored_to = NULL
                """;
        }
        else
        {
            command.CommandText = """
                INSERT INTO quarantine(agent_id, qid, agent_name, path, sha256, state, alert_id, rule_id, quarantined_at, updated_at, restored_to)
                VALUES($agent, $qid, $name, $path, $sha256, $state, $alert_id, $rule_id, $at, $at, $restored_to)
                ON CONFLICT(agent_id, qid) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at,
                    restored_to = coalesce(excluded.restored_to, quarantine.restored_to)
                """;
        }

        command.Parameters.AddWithValue("$agent", alert.AgentId);
        command.Parameters.AddWithValue("$qid", change.QuarantineId);
        command.Parameters.AddWithValue("$name", alert.AgentName);
        command.Parameters.AddWithValue("$path", change.Path);
        command.Parameters.AddWithValue("$sha256", (object?)change.Sha256 ?? DBNull.Value);
        command.Parameters.AddWithValue("$state", change.State);
        command.Parameters.AddWithValue("$alert_id", (object?)change.AlertId ?? DBNull.Value);
        command.Parameters.AddWithValue("$rule_id", (object?)change.RuleId ?? DBNull.Value);
        command.Parameters.AddWithValue("$at", at);
        command.Parameters.AddWithValue("$restored_to", (object?)change.RestoredTo ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    /// <summary>Every quarantine record the agents reported, newest first.</summary>
    public IReadOnlyList<QuarantineEntry> All() => Where("1 = 1", []);

    public QuarantineEntry? Record(string agentId, long quarantineId) =>
        Where("agent_id = $p0 AND qid = $p1", [agentId, quarantineId]).FirstOrDefault();

    /// <summary>The records of one file on one agent, newest first.</summary>
    public IReadOnlyList<QuarantineEntry> OfFile(string agentId, string file) => Where("agent_id = $p0 AND path = $p1", [agentId, file]);

    private List<QuarantineEntry> Where(string where, object[] parameters)
    {
        using var connection = IndexSql.OpenReader(connectionString);
        using var command = IndexSql.Command(connection, $"""
            SELECT agent_id, agent_name, qid, path, sha256, state, alert_id, rule_id, quarantined_at, updated_at, restored_to
            FROM quarantine WHERE {where} ORDER BY quarantined_at DESC, qid DESC LIMIT 10000
            """, parameters);
        using var reader = command.ExecuteReader();
        var entries = new List<QuarantineEntry>();
        while (reader.Read())
        {
            entries.Add(new QuarantineEntry(
                reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
                reader.IsDBNull(10) ? null : reader.GetString(10)));
        }

        return entries;
    }
}
