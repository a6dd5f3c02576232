using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Vigil.Core.Events;
using Vigil.Intel.Engines;

namespace Vigil.Manager;

/// <summary>An agent's engines as its last engine_status message said, and when the manager read it.</summary>
internal sealed record AgentEngineReport(string AgentId, string AgentName, DateTimeOffset Reported, IReadOnlyList<ReportedEngine> Engines);

/// <summary>
/// The detection engines of the agents, as their engine_status messages tell them (read by the analysis loop from
/// the events it takes): the latest report per agent, kept in SQLite under the manager's data directory
/// (<c>engines/agents.db</c>) so the Intelligence page shows them again after a restart, before the agents report
/// anew. Only an agent's own messages count: the agent is the one the manager put on the event, never a field of it.
/// A store that cannot be written is not the analysis loop's problem: the report is kept in memory and written with
/// the next one.
/// </summary>
internal sealed class AgentEngineReports : IDisposable
{
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly ConcurrentDictionary<string, AgentEngineReport> _agents = new(StringComparer.Ordinal);
    private SqliteConnection? _connection;
    private bool _loaded;

    public AgentEngineReports(string path, TimeProvider time)
    {
        _path = path;
        _time = time;
    }

    /// <summary>Where a manager keeps them.</summary>
    public static string PathUnder(string dataDirectory) => Path.Combine(dataDirectory, "engines", "agents.db");

    /// <summary>Takes note of an agent's engine_status message; anything else (or a malformed one) is left alone.</summary>
    public void Observe(EventMessage message)
    {
        if (!EngineStatusReport.IsReport(message) || message.SplitLocation().Agent is not { IsManager: false } agent
            || EngineStatusReport.Parse(message.Message) is not { } engines)
        {
            return;
        }

        var report = new AgentEngineReport(agent.Id, agent.Name, _time.GetUtcNow(), engines);
        lock (_gate)
        {
            Load();
            _agents[agent.Id] = report;
            try
            {
                Save(report);
            }
            catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
            {
                // Kept in memory; the next report writes it.
                Close();
            }
        }
    }

    /// <summary>Each agent's latest report, by agent id.</summary>
    public IReadOnlyList<AgentEngineReport> Snapshot()
    {
        lock (_gate)
        {
            Load();
        }

        return [.. _agents.Values.OrderBy(a => a.AgentId, StringComparer.Ordinal)];
    }

    private void Load()
    {
        if (_loaded)
        {
            return;
        }

        _loaded = true;
        if (!File.Exists(_path))
        {
            return;
        }

        try
        {
            using var command = Connection().CreateCommand();
            command.CommandText = "SELECT agent_id, agent_name, reported, engines FROM agent_engines";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                if (EngineStatusReport.Parse(reader.GetString(3)) is { } engines
                    && DateTimeOffset.TryParse(reader.GetString(2), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var reported))
                {
                    _agents.TryAdd(reader.GetString(0), new AgentEngineReport(reader.GetString(0), reader.GetString(1), reported, engines));
                }
            }
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            Close(); // an unreadable store: the agents' next reports fill the page again
        }
    }

    private void Save(AgentEngineReport report)
    {
        using var command = Connection().CreateCommand();
        command.CommandText = """
            INSERT INTO agent_engines(agent_id, agent_name, reported, engines) VALUES ($agent, $name, $reported, $engines)
            ON CONFLICT(agent_id) DO UPDATE SET agent_name = excluded.agent_name, reported = excluded.reported, engines = excluded.engines
            """;
        command.Parameters.AddWithValue("$agent", report.AgentId);
        command.Parameters.AddWithValue("$name", report.AgentName);
        command.Parameters.AddWithValue("$reported", report.Reported.ToString("O", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$engines", Json(report.Engines));
        command.ExecuteNonQuery();
    }

    // Stored in the message's own form, so one reader reads both.
    private static string Json(IReadOnlyList<ReportedEngine> engines) => EngineStatusReport.Message(engines.Select(e => (e.Key, new EngineStatus(
        e.Name, e.Version, e.State, e.Problem, e.Pending, e.CacheHits, e.Scans,
        e.RetroScan is { } r ? new RetroScanState(r.Version, null, r.Done, r.Total, r.Found, r.Finished) : null)))).Message;

    private SqliteConnection Connection()
    {
        if (_connection is not null)
        {
            return _connection;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                PRAGMA journal_mode=WAL;
                PRAGMA synchronous=NORMAL;
                PRAGMA busy_timeout=5000;
                CREATE TABLE IF NOT EXISTS agent_engines(
                    agent_id TEXT PRIMARY KEY, agent_name TEXT NOT NULL, reported TEXT NOT NULL, engines TEXT NOT NULL);
                """;
            command.ExecuteNonQuery();
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return _connection = connection;
    }

    private void Close()
    {
        _connection?.Dispose();
        _connection = null;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            Close();
        }
    }
}
