namespace Vigil.Fim.Scanning;

/// <summary>
/// Trees that realtime monitoring could not follow event by event (queue overflow, a full hashing queue, a new or
/// reappeared directory) and must be reconciled against the baseline by a scan. Requests are merged: a recursive request
/// covers everything below it.
/// </summary>
internal sealed class RescanQueue
{
    private readonly Dictionary<string, bool> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);
    private readonly Lock _lock = new();

    /// <summary>
    /// How long a woken consumer waits before taking the requests: a burst of requests becomes one scan, and a file
    /// created in a brand-new directory is usually closed by then, so the reconcile does not hash it half-written.
    /// </summary>
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(100);

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

    public void Request(string path, bool recursive)
    {
        lock (_lock)
        {
            _pending[path] = recursive || _pending.GetValueOrDefault(path);
        }

        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    public async Task<IReadOnlyList<ScanTarget>> TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _signal.WaitAsync(cancellationToken);
            await Task.Delay(Coalesce, cancellationToken);
            List<ScanTarget> targets;
            lock (_lock)
            {
                targets = [.. _pending.Select(p => new ScanTarget(p.Key, p.Value))];
                _pending.Clear();
            }

            if (targets.Count == 0)
            {
                continue;
            }

            var recursive = targets.Where(t => t.Recursive).Select(t => t.Path).ToList();
            return [.. targets.Where(t => !recursive.Any(r => r != t.Path && IsAtOrBelow(t.Path, r))).OrderBy(t => t.Path, StringComparer.Ordinal)];
        }
    }

    private static bool IsAtOrBelow(string path, string directory) =>
        path == directory || directory == "/" || path.StartsWith(directory + "/", StringComparison.Ordinal);
}
