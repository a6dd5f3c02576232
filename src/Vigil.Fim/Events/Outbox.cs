using Microsoft.Data.Sqlite;
using Vigil.Core.Events;

namespace Vigil.Fim.Events;

/// <summary>
/// Hands the messages queued in the baseline's outbox to the sink, oldest first, deleting each batch once the sink has
/// accepted it (so a stop or a crash re-sends rather than loses). <c>max_eps</c> throttles: after that many messages in one
/// second the sender waits for the next second; nothing is dropped, the backlog waits in the outbox.
/// </summary>
internal sealed class Outbox(string connectionString, IEventSink sink, int maxEps, TimeProvider time)
{
    private const int BatchSize = 256;

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
        while (!cancellationToken.IsCancellationRequested)
        {
            var batch = Read(connection);
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

            long last = -1;
            try
            {
                foreach (var (seq, message) in batch)
                {
                    await ThrottleAsync(cancellationToken);
                    await sink.PublishAsync(message, cancellationToken);
                    last = seq;
                }
            }
            finally
            {
                if (last >= 0)
                {
                    Delete(connection, last);
                }
            }
        }
    }

    private async ValueTask ThrottleAsync(CancellationToken cancellationToken)
    {
        if (maxEps <= 0)
        {
            return;
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

        _sentInWindow++;
    }

    private static List<(long, EventMessage)> Read(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT seq, queue, location, message FROM outbox ORDER BY seq LIMIT {BatchSize}";
        using var reader = command.ExecuteReader();
        var batch = new List<(long, EventMessage)>();
        while (reader.Read())
        {
            batch.Add((reader.GetInt64(0), new EventMessage(reader.GetString(1)[0], reader.GetString(2), reader.GetString(3))));
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
