namespace Vigil.Fim.Realtime;

/// <summary>
/// Files created but not yet closed by their writer. A file created with IN_CREATE is hashed on IN_CLOSE_WRITE; if no
/// close comes, it is hashed once its mtime has been still for <see cref="Quiet"/> (a writer that keeps the file open and
/// keeps writing is waited for), so an unfinished download is not reported with a partial hash as its final state.
/// A creation is first held for <see cref="Grace"/> only (<see cref="Created"/>): its close usually follows within
/// microseconds, and then nothing but the close's own check is done. One still not closed by then is looked at: a file
/// being written waits for <see cref="Quiet"/>, anything else (a hard link, a symbolic link, a file not written since
/// long ago) is checked at once.
/// </summary>
internal sealed class SettleTracker(TimeProvider time)
{
    private readonly Dictionary<string, long> _pending = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public static TimeSpan Quiet { get; } = TimeSpan.FromSeconds(1);

    public static TimeSpan Grace { get; } = TimeSpan.FromMilliseconds(100);

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

    /// <summary>Due once the file has been still for <see cref="Quiet"/>.</summary>
    public void Arm(string path)
    {
        lock (_lock)
        {
            _pending[path] = time.GetTimestamp();
        }
    }

    /// <summary>A creation (IN_CREATE without its close in the same read): due after <see cref="Grace"/>, unless its close comes first.</summary>
    public void Created(string path)
    {
        lock (_lock)
        {
            // Armed as if Quiet - Grace ago: due Grace from now. A path already waiting keeps its time.
            _pending.TryAdd(path, time.GetTimestamp() - (long)((Quiet - Grace).TotalSeconds * time.TimestampFrequency));
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
