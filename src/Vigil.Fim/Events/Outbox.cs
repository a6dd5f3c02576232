using Microsoft.Data.Sqlite;
using Vigil.Core.Events;

namespace Vigil.Fim.Events;

/// <summary>One message of the outbox and its sequence there.</summary>
internal readonly record struct OutboxRow(long Seq, EventMessage Message);

/// <summary>
/// Hands the messages queued in the baseline's outbox to the sink, oldest first, a batch at a time (a durable sink
/// commits it at once), deleting each batch once the sink has accepted it (so a stop or a crash re-sends rather than
/// loses). Each message goes with its outbox sequence (never reused) in the stream <c>fim-EPOCH</c> (fim.db's), so a
/// sink that remembers how far a stream came takes a message re-sent after a crash only once. <c>max_eps</c> throttles:
/// after that many messages in one second the sender waits for the next second; nothing is dropped, the backlog waits
/// in the outbox.
/// </summary>
internal sealed class Outbox(string connectionString, IEventSink sink, int maxEps, TimeProvider time)
{
    private const int BatchSize = 1024;

    /// <summary>
    /// How long the sender lets events gather before it reads while they stream in (<see cref="StreamGauge"/>: at
    /// least 50 sent in the last 250 ms, 200 a second, the last batch under 256 events). At 2,000 new files a second,
    /// sent one by one, each event cost the agent about 270 µs of cpu and the manager 230 µs; gathered 50 ms at a time,
    /// about 185 and 135 (`agent-burst --rate`, bench/results/agent-burst.txt). Below that rate (a file now and then, a
    /// removal's own deletion event) every event goes at once: gathering there saved nothing and cost the guide's
    /// chain 50 ms (e2e-quarantine). Real time on purpose: it only groups work, it decides nothing.
    /// </summary>
    internal static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(50);

    private readonly StreamGauge _stream = new(time);

    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);
    private long _windowStart;
    private int _sentInWindow;

    /// <summary>Tells the sender new rows were committed.</summary>
    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    /// <summary>Whether messages wait in the outbox.</summary>
    public bool HasBacklog()
    {
        using var connection = Baseline.BaselineStore.Open(connectionString);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM outbox)";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) != 0;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var connection = Baseline.BaselineStore.Open(connectionString);
        var sent = LastSent(connection);
        var stream = StreamOf(connection);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (_stream.IsStreaming)
            {
                // Events stream in one after another: let the next ones gather, so that they are one commit (one
                // fsync in the agent's queue) and one message to the manager, not one each.
                try
                {
                    await Task.Delay(Linger, TimeProvider.System, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            var batch = Read(connection, sent);
            if (batch.Count == 0)
            {
                try
                {
                    await _signal.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            _stream.Sent(batch.Count);
            long last = -1;
            try
            {
                var start = 0;
                while (start < batch.Count)
                {
                    var count = await ThrottleAsync(batch.Count - start, cancellationToken);
                    var chunk = batch.GetRange(start, count);
                    await sink.PublishStreamAsync([.. chunk.Select(c => c.Message)], stream, [.. chunk.Select(c => c.Seq)], cancellationToken);
                    start += count;
                    last = chunk[^1].Seq;
                }
            }
            finally
            {
                if (last >= 0)
                {
                    sent = last;
                    Delete(connection, last);
                }
            }
        }
    }

    /// <summary>The outbox's stream: its sequences are unique in one fim.db, whose epoch names it.</summary>
    internal static string StreamOf(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = 'epoch'";
        return "fim-" + (string)command.ExecuteScalar()!;
    }

    // How many of the next `wanted` messages may go now: all without max_eps; else what is left of this second's
    // allowance, after waiting for the next second when it is spent.
    private async ValueTask<int> ThrottleAsync(int wanted, CancellationToken cancellationToken)
    {
        if (maxEps <= 0)
        {
            return wanted;
        }

        var now = time.GetTimestamp();
        if (time.GetElapsedTime(_windowStart, now) >= TimeSpan.FromSeconds(1))
        {
            _windowStart = now;
            _sentInWindow = 0;
        }

        if (_sentInWindow >= maxEps)
        {
            var wait = TimeSpan.FromSeconds(1) - time.GetElapsedTime(_windowStart, now);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, cancellationToken);
            }

            _windowStart = time.GetTimestamp();
            _sentInWindow = 0;
        }

        var count = Math.Min(wanted, maxEps - _sentInWindow);
        _sentInWindow += count;
        return count;
    }

    // Every row before the oldest left was sent (a row is deleted only once the sink took it); with none left, every
    // row ever queued was.
    private static long LastSent(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE((SELECT MIN(seq) FROM outbox) - 1, (SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0)";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static List<OutboxRow> Read(SqliteConnection connection, long after)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT seq, queue, location, message FROM outbox WHERE seq > $after ORDER BY seq LIMIT {BatchSize}";
        command.Parameters.AddWithValue("$after", after);
        using var reader = command.ExecuteReader();
        var batch = new List<OutboxRow>();
        while (reader.Read())
        {
            batch.Add(new OutboxRow(reader.GetInt64(0), new EventMessage(reader.GetString(1)[0], reader.GetString(2), reader.GetString(3))));
        }

        return batch;
    }

    private static void Delete(SqliteConnection connection, long last)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM outbox WHERE seq <= $last";
        command.Parameters.AddWithValue("$last", last);
        command.ExecuteNonQuery();
    }
}

/// <summary>
/// Whether events stream in: at least <see cref="StreamEvents"/> sent in the last <see cref="Window"/>, and the last
/// batch under <see cref="FullBatch"/> events (a burst's large batches never wait).
/// </summary>
internal sealed class StreamGauge(TimeProvider time)
{
    internal const int StreamEvents = 50;
    internal const int FullBatch = 256;
    internal static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);

    // The batches sent within the last Window (when, how many events), oldest first.
    private readonly Queue<(long At, int Count)> _recent = new();
    private int _recentEvents;
    private int _lastCount;

    public bool IsStreaming
    {
        get
        {
            ForgetOld();
            return _lastCount < FullBatch && _recentEvents >= StreamEvents;
        }
    }

    public void Sent(int count)
    {
        ForgetOld();
        _recent.Enqueue((time.GetTimestamp(), count));
        _recentEvents += count;
        _lastCount = count;
    }

    private void ForgetOld()
    {
        while (_recent.TryPeek(out var oldest) && time.GetElapsedTime(oldest.At) >= Window)
        {
            _recent.Dequeue();
            _recentEvents -= oldest.Count;
        }
    }
}
