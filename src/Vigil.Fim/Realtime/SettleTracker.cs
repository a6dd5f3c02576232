namespace Vigil.Fim.Realtime;

/// <summary>
/// Files created but not yet closed by their writer. A file created with IN_CREATE is hashed on IN_CLOSE_WRITE; if no
/// close comes, it is hashed once its mtime has been still for <see cref="Quiet"/> (a writer that keeps the file open and
/// keeps writing is waited for), so an unfinished download is not reported with a partial hash as its final state.
/// </summary>
internal sealed class SettleTracker(TimeProvider time)
{
    private readonly Dictionary<string, long> _pending = new(StringComparer.Ordinal);
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

    public bool IsPending(string path)
    {
        lock (_lock)
        {
            return _pending.ContainsKey(path);
        }
    }

    public void Cancel(string path)
    {
        lock (_lock)
        {
            _pending.Remove(path);
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
