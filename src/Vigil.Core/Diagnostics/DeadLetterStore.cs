using System.Globalization;
using Microsoft.Data.Sqlite;
using Vigil.Core.Events;

namespace Vigil.Core.Diagnostics;

/// <summary>One event a stage could not handle, kept for inspection (`vigil deadletter show ID`).</summary>
/// <param name="Id">The record's id, increasing.</param>
/// <param name="Time">When the stage gave up on the event.</param>
/// <param name="Stage">The stage that failed: analysis, intelligence, active-response, index.</param>
/// <param name="AgentId">The agent the event came from ("000" for the host itself).</param>
/// <param name="AgentName">The agent's name, when known.</param>
/// <param name="Location">The event's location after the agent part (syscheck, virustotal, …).</param>
/// <param name="Reason">Why it failed, one line.</param>
/// <param name="Detail">The exception as text (type, message and stack), for a developer.</param>
/// <param name="Event">The event in queue form <c>Q:LOCATION:MESSAGE</c>, cut at <see cref="DeadLetterStore.MaxEventChars"/>.</param>
/// <param name="Sequence">The agent's sequence number of the event, 0 for none.</param>
public sealed record DeadLetter(
    long Id,
    DateTimeOffset Time,
    string Stage,
    string AgentId,
    string? AgentName,
    string Location,
    string Reason,
    string Detail,
    string Event,
    ulong Sequence);

/// <summary>
/// The dead-letter store (SQLite under the data directory): bounded to <see cref="MaxRecords"/> records (the oldest
/// go first) of at most <see cref="MaxEventChars"/> characters of event each. An agent's event replayed after a crash
/// is kept once. Thread-safe.
/// </summary>
public sealed class DeadLetterStore : IDisposable
{
    /// <summary>Records kept at most; beyond it the oldest are deleted.</summary>
    public const int MaxRecords = 10_000;

    /// <summary>Characters of the event kept at most.</summary>
    public const int MaxEventChars = 65_536;

    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;

    /// <summary>Opens (or creates) the store at <paramref name="path"/>.</summary>
    public DeadLetterStore(string path, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(path);
        _time = time;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        using var command = _connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            PRAGMA busy_timeout=5000;
            CREATE TABLE IF NOT EXISTS dead_letters(
                id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, stage TEXT NOT NULL, agent_id TEXT NOT NULL,
                agent_name TEXT, location TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL, event TEXT NOT NULL,
                sequence INTEGER NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_replay ON dead_letters(agent_id, sequence, stage) WHERE sequence > 0;
            """;
        command.ExecuteNonQuery();
    }

    /// <summary>Where a host keeps its store.</summary>
    public static string PathUnder(string dataDirectory) => Path.Combine(dataDirectory, "deadletter", "deadletter.db");

    /// <summary>Opens the store of a data directory for reading, or null when nothing was ever dead-lettered there.</summary>
    public static DeadLetterStore? OpenExisting(string dataDirectory, TimeProvider time) =>
        File.Exists(PathUnder(dataDirectory)) ? new DeadLetterStore(PathUnder(dataDirectory), time) : null;

    /// <summary>Keeps one failed event; returns its id (the earlier record's id when this is a replay of it).</summary>
    public long Add(string stage, EventMessage message, ulong sequence, Exception error)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(error);
        var (agent, location) = message.SplitLocation();
        var reason = ReasonOf(error);
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                INSERT OR IGNORE INTO dead_letters(time, stage, agent_id, agent_name, location, reason, detail, event, sequence)
                VALUES ($time, $stage, $agent, $name, $location, $reason, $detail, $event, $sequence)
                """;
            command.Parameters.AddWithValue("$time", _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue("$stage", stage);
            command.Parameters.AddWithValue("$agent", agent?.Id ?? "000");
            command.Parameters.AddWithValue("$name", (object?)(agent is null ? null : EventText.Scrub(agent.Name)) ?? DBNull.Value);
            command.Parameters.AddWithValue("$location", EventText.Scrub(location));
            command.Parameters.AddWithValue("$reason", reason);
            command.Parameters.AddWithValue("$detail", EventText.Truncate(EventText.Scrub(error.ToString()), 16_384));
            command.Parameters.AddWithValue("$event", EventText.Truncate(EventText.Scrub(message.ToString()), MaxEventChars));
            command.Parameters.AddWithValue("$sequence", (long)sequence);
            var isNew = command.ExecuteNonQuery() == 1;
            command.CommandText = isNew
                ? "SELECT last_insert_rowid()"
                : "SELECT id FROM dead_letters WHERE agent_id = $agent AND sequence = $sequence AND stage = $stage";
            var id = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);

            command.Parameters.Clear();
            command.CommandText = "DELETE FROM dead_letters WHERE id <= $last";
            command.Parameters.AddWithValue("$last", id - MaxRecords);
            command.ExecuteNonQuery();
            return id;
        }
    }

    /// <summary>The reason an exception gives, as one line: its type and message.</summary>
    public static string ReasonOf(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var message = EventText.Scrub(error.Message).ReplaceLineEndings(" ");
        return EventText.Truncate($"{error.GetType().Name}: {message}", 512);
    }

    /// <summary>The newest records first, at most <paramref name="limit"/>, below <paramref name="beforeId"/> when given.</summary>
    public IReadOnlyList<DeadLetter> List(int limit, long? beforeId = null)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT * FROM dead_letters WHERE id < $before ORDER BY id DESC LIMIT $limit";
            command.Parameters.AddWithValue("$before", beforeId ?? long.MaxValue);
            command.Parameters.AddWithValue("$limit", Math.Clamp(limit, 0, MaxRecords));
            return Read(command);
        }
    }

    /// <summary>The record with this id, or null.</summary>
    public DeadLetter? Find(long id)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT * FROM dead_letters WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            return Read(command) is [var one] ? one : null;
        }
    }

    /// <summary>How many records the store holds.</summary>
    public long Count()
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM dead_letters";
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
    }

    private static List<DeadLetter> Read(SqliteCommand command)
    {
        var list = new List<DeadLetter>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(new DeadLetter(
                reader.GetInt64(reader.GetOrdinal("id")),
                DateTimeOffset.Parse(reader.GetString(reader.GetOrdinal("time")), CultureInfo.InvariantCulture),
                reader.GetString(reader.GetOrdinal("stage")),
                reader.GetString(reader.GetOrdinal("agent_id")),
                reader.IsDBNull(reader.GetOrdinal("agent_name")) ? null : reader.GetString(reader.GetOrdinal("agent_name")),
                reader.GetString(reader.GetOrdinal("location")),
                reader.GetString(reader.GetOrdinal("reason")),
                reader.GetString(reader.GetOrdinal("detail")),
                reader.GetString(reader.GetOrdinal("event")),
                (ulong)reader.GetInt64(reader.GetOrdinal("sequence"))));
        }

        return list;
    }

    /// <summary>Closes the database.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _connection.Dispose();
        }
    }
}
