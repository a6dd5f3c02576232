using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Core.Events;
using Vigil.Core.Storage;

namespace Vigil.Transport.Agent;

/// <summary>One queued event and its sequence (unique per agent, only grows: SQLite AUTOINCREMENT never reuses).</summary>
internal sealed record QueuedEvent(ulong Sequence, EventMessage Message);

/// <summary>A committed analysis side effect still to carry out (a lookup to queue, a response to run).</summary>
internal sealed record PendingEffect(long Id, string Kind, string Payload);

/// <summary>
/// The agent's durable queue: each event is committed to SQLite (synchronous=FULL) before it is sent and deleted
/// only when the manager acknowledges it, so nothing is lost across a manager or agent crash. A batch from one
/// producer (<see cref="PublishBatchAsync"/>: FIM's outbox hands over up to 1,024 events at once) is one transaction,
/// one fsync; its producer is answered only after that commit. A keyed event whose key was already taken (the
/// producer re-sent a row after a crash, before it could delete it) is skipped: the last 65,536 keys are kept. A
/// stream's events (<see cref="PublishStreamAsync"/>: FIM's outbox rows and their sequences) are skipped at or before
/// the last position taken from that stream, one number kept per stream in the same transaction.
/// `vigil run` uses the same queue in front of its own analysis, and <see cref="Commit"/> to forget analysed events
/// together with where the alert files end and the side effects the batch decided.
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
    // The last position taken from each stream, once read from the state table.
    private readonly Dictionary<string, long> _streams = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _count;
    private long _dropped;
    private SqliteStatement? _insert;
    private SqliteCommand? _takeKey;

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
            CREATE TABLE IF NOT EXISTS keys(key TEXT NOT NULL UNIQUE);
            CREATE TABLE IF NOT EXISTS effects(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, payload TEXT NOT NULL);
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

    public ValueTask PublishBatchAsync(IReadOnlyList<EventMessage> messages, IReadOnlyList<string>? keys, CancellationToken cancellationToken)
    {
        EnqueueMany(messages, keys);
        return ValueTask.CompletedTask;
    }

    public ValueTask PublishStreamAsync(IReadOnlyList<EventMessage> messages, string stream, IReadOnlyList<long> positions, CancellationToken cancellationToken)
    {
        EnqueueStream(messages, stream, positions);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Commits events of one producer's stream in one transaction, skipping positions at or before the last one
    /// taken from that stream, which is kept in the same transaction (state <c>stream:NAME</c>); each event past
    /// capacity is counted dropped and its position is taken all the same, as a keyed event's key is.
    /// </summary>
    public void EnqueueStream(IReadOnlyList<EventMessage> messages, string stream, IReadOnlyList<long> positions)
    {
        if (positions.Count != messages.Count)
        {
            throw new ArgumentException("one position per message", nameof(positions));
        }

        if (messages.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            var key = "stream:" + stream;
            if (!_streams.TryGetValue(stream, out var taken))
            {
                taken = GetState(key) ?? 0;
            }

            using var transaction = _connection.BeginTransaction();
            FlushDropNotice(transaction);
            var dropped = _dropped;
            var last = taken;
            for (var i = 0; i < messages.Count; i++)
            {
                if (positions[i] <= last)
                {
                    continue;
                }

                last = positions[i];
                InsertOrDrop(messages[i]);
            }

            if (last != taken)
            {
                SetState(key, last, transaction);
            }

            if (_dropped != dropped)
            {
                SetDropped(_dropped, transaction);
            }

            transaction.Commit();
            _streams[stream] = last;
        }

        Signal();
    }

    /// <summary>Commits events in one transaction (each counted dropped when the queue is full), skipping keys already taken.</summary>
    public void EnqueueMany(IReadOnlyList<EventMessage> messages, IReadOnlyList<string>? keys)
    {
        if (keys is not null && keys.Count != messages.Count)
        {
            throw new ArgumentException("one key per message", nameof(keys));
        }

        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            FlushDropNotice(transaction);
            var dropped = _dropped;
            for (var i = 0; i < messages.Count; i++)
            {
                if (keys is null || TakeKey(keys[i], transaction))
                {
                    InsertOrDrop(messages[i]);
                }
            }

            if (_dropped != dropped)
            {
                SetDropped(_dropped, transaction);
            }

            transaction.Commit();
        }

        Signal();
    }

    /// <summary>
    /// `vigil run`'s commit after a batch whose alerts are durably written: forgets the events up to
    /// <paramref name="sequence"/>, records where the alert files end and queues the batch's side effects, atomically.
    /// </summary>
    public IReadOnlyList<PendingEffect> Commit(ulong sequence, (long Json, long Log) alertEnds, IReadOnlyList<(string Kind, string Payload)> effects)
    {
        var added = new List<PendingEffect>(effects.Count);
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

            SetState("json_end", alertEnds.Json, transaction);
            SetState("log_end", alertEnds.Log, transaction);
            foreach (var (kind, payload) in effects)
            {
                using var command = _connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT INTO effects(kind, payload) VALUES ($kind, $payload) RETURNING id";
                command.Parameters.AddWithValue("$kind", kind);
                command.Parameters.AddWithValue("$payload", payload);
                added.Add(new PendingEffect(Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture), kind, payload));
            }

            if (_count < Capacity)
            {
                FlushDropNotice(transaction);
            }

            transaction.Commit();
        }

        Signal();
        return added;
    }

    /// <summary>Where the alert files ended at the last <see cref="Commit"/>; null before the first.</summary>
    public (long Json, long Log)? CommittedAlertEnds() =>
        GetState("json_end") is { } json && GetState("log_end") is { } log ? (json, log) : null;

    /// <summary>Side effects committed and not yet marked done, oldest first.</summary>
    public IReadOnlyList<PendingEffect> PendingEffects()
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, kind, payload FROM effects ORDER BY id";
            using var reader = command.ExecuteReader();
            var result = new List<PendingEffect>();
            while (reader.Read())
            {
                result.Add(new PendingEffect(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
            }

            return result;
        }
    }

    public void CompleteEffect(long id)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "DELETE FROM effects WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Whether <paramref name="key"/> was taken (by a keyed event or <see cref="TryClaim"/>) and is still remembered.</summary>
    public bool HasKey(string key)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT EXISTS (SELECT 1 FROM keys WHERE key = $key)";
            command.Parameters.AddWithValue("$key", key);
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) != 0;
        }
    }

    /// <summary>Takes <paramref name="key"/> durably; false when it was already taken.</summary>
    public bool TryClaim(string key)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            var taken = TakeKey(key, transaction);
            transaction.Commit();
            return taken;
        }
    }

    /// <summary>A number the queue's owner keeps beside the events (e.g. how far a log file was read).</summary>
    public long? GetState(string key)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT value FROM state WHERE key = $key";
            command.Parameters.AddWithValue("$key", key);
            return command.ExecuteScalar() is long value ? value : null;
        }
    }

    public void SetState(string key, long value)
    {
        lock (_gate)
        {
            SetState(key, value, null);
        }
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

                SetDropped(_dropped, null);
                return;
            }

            using var transaction = _connection.BeginTransaction();
            FlushDropNotice(transaction);
            Insert(message);
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

    /// <summary>
    /// The manager has durably handled every event up to <paramref name="sequence"/>: forget them. Without an fsync
    /// of its own unless it also queues a drop notice: an acknowledgement lost to a power cut only sends those events
    /// again, which the manager's replay watermark drops, and the next enqueue's fsync makes it durable anyway.
    /// </summary>
    public void Acknowledge(ulong sequence)
    {
        lock (_gate)
        {
            var isLight = _dropped == 0;
            if (isLight)
            {
                Execute("PRAGMA synchronous=NORMAL");
            }

            try
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
            finally
            {
                if (isLight)
                {
                    Execute("PRAGMA synchronous=FULL");
                }
            }
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
        Insert(new EventMessage(EventMessage.LocalFileQueue, NoticeLocation, notice));
        _dropped = 0;
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "DELETE FROM state WHERE key = 'dropped'";
        command.ExecuteNonQuery();
    }

    // An event of a batch, inside its transaction: queued, or counted dropped when the queue is full.
    private void InsertOrDrop(EventMessage message)
    {
        if (_count < Capacity)
        {
            Insert(message);
        }
        else if (_dropped++ == 0)
        {
            TransportLog.QueueFull(_logger, Capacity);
        }
    }

    // Inside the transaction the connection has open. One statement per event of a batch: prepared once, kept for the
    // connection's life (under the gate), bound by position (SqliteStatement).
    private void Insert(EventMessage message)
    {
        var insert = _insert ??= new SqliteStatement(_connection, "INSERT INTO events(queue, location, message) VALUES (?1, ?2, ?3)");
        insert.Bind(1, message.Queue.ToString()).Bind(2, message.Location).Bind(3, message.Message).Execute();
        _count++;
    }

    private SqliteCommand Prepared(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new SqliteParameter(parameter, null));
        }

        return command;
    }

    private void SetDropped(long dropped, SqliteTransaction? transaction) => SetState("dropped", dropped, transaction);

    private void SetState(string key, long value, SqliteTransaction? transaction)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO state(key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$value", value);
        command.ExecuteNonQuery();
    }

    // True when the key is new (and now taken); every 1,024 keys the oldest beyond 65,536 are forgotten.
    private bool TakeKey(string key, SqliteTransaction transaction)
    {
        var command = _takeKey ??= Prepared("INSERT OR IGNORE INTO keys(key) VALUES ($key) RETURNING rowid", "$key");
        command.Transaction = transaction;
        command.Parameters[0].Value = key;
        if (command.ExecuteScalar() is not long rowid)
        {
            return false;
        }

        if (rowid % 1024 == 0)
        {
            using var prune = _connection.CreateCommand();
            prune.Transaction = transaction;
            prune.CommandText = "DELETE FROM keys WHERE rowid <= $oldest";
            prune.Parameters.AddWithValue("$oldest", rowid - KeysKept);
            prune.ExecuteNonQuery();
        }

        return true;
    }

    private const int KeysKept = 65_536;

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

    // Under the gate: a commit in progress on another thread finishes before the connection goes (disposing it under
    // an open transaction throws from inside SQLite).
    public void Dispose()
    {
        lock (_gate)
        {
            _insert?.Dispose();
            _takeKey?.Dispose();
            _connection.Dispose();
        }
    }
}
