namespace Vigil.Fim.Realtime;

/// <summary>
/// Files created but not yet closed by their writer. A file created with IN_CREATE is hashed on IN_CLOSE_WRITE; if no
/// close comes, it is hashed once its mtime has been still for <see cref="Quiet"/> (a writer that keeps the file open and
/// keeps writing is waited for), so an unfinished download is not reported with a partial hash as its final state.
/// A creation is looked at by a worker first (<see cref="Queued"/>, then <see cref="TryArm"/>); a close that comes
/// while it waits for one is remembered, so the worker does not arm a file that is already closed and checked.
/// </summary>
internal sealed class SettleTracker(TimeProvider time)
{
    private readonly Dictionary<string, long> _pending = new(StringComparer.Ordinal);

    // Creations queued for a worker, and those of them closed since (both bounded by the work queue).
    private readonly HashSet<string> _queued = new(StringComparer.Ordinal);
    private readonly HashSet<string> _closedWhileQueued = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public static TimeSpan Quiet { get; } = TimeSpan.FromSeconds(1);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    public void Arm(string path)
    {
        lock (_lock)
        {
            _pending[path] = time.GetTimestamp();
        }
    }

    /// <summary>A creation was queued for a worker, which will call <see cref="TryArm"/> or <see cref="Dequeued"/>.</summary>
    public void Queued(string path)
    {
        lock (_lock)
        {
            _queued.Add(path);
        }
    }

    /// <summary>
    /// The worker found the created file still being written: armed, unless a close came since the creation was queued
    /// (the close's own check looks at the file; arming it too would check it a second time a second later).
    /// </summary>
    public bool TryArm(string path)
    {
        lock (_lock)
        {
            _queued.Remove(path);
            if (_closedWhileQueued.Remove(path))
            {
                return false;
            }

            _pending[path] = time.GetTimestamp();
            return true;
        }
    }

    /// <summary>Whether a close came since the creation was queued (it stays queued).</summary>
    public bool ClosedSinceQueued(string path)
    {
        lock (_lock)
        {
            return _closedWhileQueued.Contains(path);
        }
    }

    /// <summary>The worker is done with a queued creation without arming it; true when a close came since it was queued.</summary>
    public bool Dequeued(string path)
    {
        lock (_lock)
        {
            _queued.Remove(path);
            return _closedWhileQueued.Remove(path);
        }
    }

    public bool IsPending(string path)
    {
        lock (_lock)
        {
            return _pending.ContainsKey(path);
        }
    }

    /// <summary>The file was closed (or moved, or deleted): it is checked now, not when it settles.</summary>
    public void Cancel(string path)
    {
        lock (_lock)
        {
            _pending.Remove(path);
            if (_queued.Contains(path))
            {
                _closedWhileQueued.Add(path);
            }
        }
    }

    /// <summary>Paths armed at least <see cref="Quiet"/> ago, removed from the tracker.</summary>
    public List<string> TakeDue()
    {
        var due = new List<string>();
        var now = time.GetTimestamp();
        lock (_lock)
        {
            foreach (var (path, armed) in _pending)
            {
                if (time.GetElapsedTime(armed, now) >= Quiet)
                {
                    due.Add(path);
                }
            }

            foreach (var path in due)
            {
                _pending.Remove(path);
            }
        }

        return due;
    }

    /// <summary>Whether a file modified at the given mtime may still be being written.</summary>
    public bool IsRecentlyWritten(long mtimeSeconds, long mtimeNanos)
    {
        var modified = DateTimeOffset.FromUnixTimeSeconds(mtimeSeconds).AddTicks(mtimeNanos / 100);
        return time.GetUtcNow() - modified < Quiet;
    }
}
