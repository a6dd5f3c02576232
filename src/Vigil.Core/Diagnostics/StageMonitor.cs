namespace Vigil.Core.Diagnostics;

/// <summary>What <c>/api/health</c> says of one stage.</summary>
/// <param name="Name">The stage: analysis, index, intelligence, execd, ar-log-tailer, …</param>
/// <param name="Status">"ok", "stalled" (work waiting, no progress for longer than the limit) or "stopped" (its loop ended).</param>
/// <param name="Processed">Items the stage has finished.</param>
/// <param name="Failed">Items it gave up on (each one a dead letter).</param>
/// <param name="Detail">Why it is not ok, or null.</param>
public sealed record StageStatus(string Name, string Status, long Processed, long Failed, string? Detail);

/// <summary>
/// Watches the host's long-running stages: each says when it takes work, when it finishes an item and when it is idle;
/// a stage busy on one item for longer than the limit is "stalled", a stage whose loop has ended while the host runs
/// is "stopped". The API's health check and the systemd watchdog read it. Thread-safe.
/// </summary>
public sealed class StageMonitor(TimeProvider time, TimeSpan stallAfter)
{
    private readonly List<Stage> _stages = [];
    private readonly Lock _gate = new();

    /// <summary>The default limit: a minute without progress on work that is waiting.</summary>
    public static TimeSpan DefaultStallAfter { get; } = TimeSpan.FromSeconds(60);

    /// <summary>A monitor with the default limit.</summary>
    public StageMonitor(TimeProvider time)
        : this(time, DefaultStallAfter)
    {
    }

    /// <summary>Adds a stage to watch.</summary>
    public Stage Register(string name)
    {
        var stage = new Stage(name, time);
        lock (_gate)
        {
            _stages.Add(stage);
        }

        return stage;
    }

    /// <summary>Watches a background task as a stage: it is "stopped" once the task ends before the host stops.</summary>
    public void Watch(string name, Task loop, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(loop);
        var stage = Register(name);
        _ = loop.ContinueWith(
            t =>
            {
                if (!stopping.IsCancellationRequested)
                {
                    stage.Stopped(t.Exception?.GetBaseException());
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Every stage's state now.</summary>
    public IReadOnlyList<StageStatus> Snapshot()
    {
        lock (_gate)
        {
            return [.. _stages.Select(s => s.Status(stallAfter))];
        }
    }

    /// <summary>The stages that are not ok, empty when all are.</summary>
    public IReadOnlyList<StageStatus> Unhealthy() => [.. Snapshot().Where(s => s.Status != "ok")];

    /// <summary>One stage: its loop calls <see cref="Busy"/>, <see cref="Done"/> and <see cref="Idle"/>.</summary>
    public sealed class Stage
    {
        private readonly TimeProvider _time;
        private long _busySince = -1; // timestamp of the last progress while work waits, -1 when idle
        private long _processed;
        private long _failed;
        private volatile string? _stopped;

        internal Stage(string name, TimeProvider time)
        {
            Name = name;
            _time = time;
        }

        /// <summary>The stage's name.</summary>
        public string Name { get; }

        /// <summary>Work is waiting (or being done): the clock for "stalled" runs from now unless it already runs.</summary>
        public void Busy()
        {
            if (Interlocked.Read(ref _busySince) < 0)
            {
                Interlocked.Exchange(ref _busySince, _time.GetTimestamp());
            }
        }

        /// <summary>One item finished (<paramref name="failed"/>: given up on): progress, so the clock restarts.</summary>
        public void Done(bool failed = false)
        {
            Interlocked.Increment(ref _processed);
            if (failed)
            {
                Interlocked.Increment(ref _failed);
            }

            Interlocked.Exchange(ref _busySince, _time.GetTimestamp());
        }

        /// <summary>Nothing is waiting.</summary>
        public void Idle() => Interlocked.Exchange(ref _busySince, -1);

        /// <summary>The stage's loop ended while the host runs.</summary>
        public void Stopped(Exception? error) =>
            _stopped = error is null ? "its loop ended" : $"its loop ended: {error.GetType().Name}: {error.Message}";

        internal StageStatus Status(TimeSpan stallAfter)
        {
            var processed = Interlocked.Read(ref _processed);
            var failed = Interlocked.Read(ref _failed);
            if (_stopped is { } stopped)
            {
                return new StageStatus(Name, "stopped", processed, failed, stopped);
            }

            var since = Interlocked.Read(ref _busySince);
            if (since >= 0 && _time.GetElapsedTime(since) is var elapsed && elapsed > stallAfter)
            {
                return new StageStatus(Name, "stalled", processed, failed, $"no progress for {(long)elapsed.TotalSeconds} s with work waiting");
            }

            return new StageStatus(Name, "ok", processed, failed, null);
        }
    }
}
