using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Core.Events;

namespace Vigil.Transport.Agent;

/// <summary>One queued event and its sequence (unique per agent, only grows: SQLite AUTOINCREMENT never reuses).</summary>
internal sealed record QueuedEvent(ulong Sequence, EventMessage Message);

/// <summary>
/// The agent's durable queue: each event is committed to SQLite (synchronous=FULL) before it is sent and deleted
/// only when the manager acknowledges it, so nothing is lost across a manager or agent crash.
/// Bounded on disk: at <see cref="Capacity"/> events the NEWEST are dropped (the oldest evidence is kept and the
/// sequence order stays intact); when room returns, a queue-1 event
/// <c>vigil: Agent event queue full: N events dropped</c> is queued first, which raises rule 200402.
/// </summary>
internal sealed class DurableEventQueue : IEventSink, IDisposable
{
    public const int DefaultCapacity = 100_000;
    public const string NoticeLocation = "vigil-agentd";

    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();
    private readonly ILogger _logger;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _count;
    private long _dropped;

    public DurableEventQueue(string path, int capacity = DefaultCapacity, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        _logger = logger ?? NullLogger.Instance;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("""
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=FULL;
            CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, location TEXT NOT NULL, message TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            """);
        _count = Scalar("SELECT COUNT(*) FROM events");
        _dropped = Scalar("SELECT COALESCE((SELECT value FROM state WHERE key = 'dropped'), 0)");
    }

    public static string PathUnder(string dataDirectory) => Path.Combine(dataDirectory, "queue", "events.db");

    public int Capacity { get; }

    public long Count => Interlocked.Read(ref _count);

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Completes when an event is queued or acknowledged; take it before reading so no change is missed.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken)
    {
        Enqueue(message);
        return ValueTask.CompletedTask;
    }

    /// <summary>Commits one event (or counts it dropped when the queue is full).</summary>
    public void Enqueue(EventMessage message)
    {
        lock (_gate)
        {
            if (_count >= Capacity)
            {
                if (_dropped++ == 0)
                {
                    TransportLog.QueueFull(_logger, Capacity);
                }

                SetDropped(_dropped);
                return;
            }

            using var transaction = _connection.BeginTransaction();
            FlushDropNotice(transaction);
            Insert(message, transaction);
            transaction.Commit();
        }

        Signal();
    }

    /// <summary>Up to <paramref name="max"/> events after <paramref name="sequence"/>, oldest first.</summary>
    public IReadOnlyList<QueuedEvent> ReadAfter(ulong sequence, int max)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT seq, queue, location, message FROM events WHERE seq > $seq ORDER BY seq LIMIT $max";
            command.Parameters.AddWithValue("$seq", (long)sequence);
            command.Parameters.AddWithValue("$max", max);
            using var reader = command.ExecuteReader();
            var result = new List<QueuedEvent>();
            while (reader.Read())
            {
                result.Add(new QueuedEvent((ulong)reader.GetInt64(0), new EventMessage(reader.GetString(1)[0], reader.GetString(2), reader.GetString(3))));
            }

            return result;
        }
    }

    /// <summary>The manager has durably handled every event up to <paramref name="sequence"/>: forget them.</summary>
    public void Acknowledge(ulong sequence)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using (var command = _connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = "DELETE FROM events WHERE seq <= $seq";
                command.Parameters.AddWithValue("$seq", (long)sequence);
                _count -= command.ExecuteNonQuery();
            }

            if (_count < Capacity)
            {
                FlushDropNotice(transaction);
            }

            transaction.Commit();
        }

        Signal();
    }

    private void FlushDropNotice(SqliteTransaction transaction)
    {
        if (_dropped == 0)
        {
            return;
        }

        var notice = $"vigil: Agent event queue full: {_dropped.ToString(CultureInfo.InvariantCulture)} events dropped (capacity {Capacity.ToString(CultureInfo.InvariantCulture)})";
        Insert(new EventMessage(EventMessage.LocalFileQueue, NoticeLocation, notice), transaction);
        _dropped = 0;
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM state WHERE key = 'dropped'";
        command.ExecuteNonQuery();
    }

    private void Insert(EventMessage message, SqliteTransaction transaction)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO events(queue, location, message) VALUES ($queue, $location, $message)";
        command.Parameters.AddWithValue("$queue", message.Queue.ToString());
        command.Parameters.AddWithValue("$location", message.Location);
        command.Parameters.AddWithValue("$message", message.Message);
        command.ExecuteNonQuery();
        _count++;
    }

    private void SetDropped(long dropped)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "INSERT INTO state(key, value) VALUES ('dropped', $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
        command.Parameters.AddWithValue("$value", dropped);
        command.ExecuteNonQuery();
    }

    private void Signal() =>
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private long Scalar(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public void Dispose() => _connection.Dispose();
}
