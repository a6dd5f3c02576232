using System.Collections.Concurrent;
using Vigil.Intel.VirusTotal;

namespace Vigil.Intel;

/// <summary>
/// Verdicts by hash with a lifetime per kind (malicious, clean, unknown): SQLite holds them for every agent and
/// every process; a bounded in-memory map in front answers repeated hashes without touching the file.
/// </summary>
internal sealed class VerdictCache(IntelStore store, IntelOptions options, TimeProvider timeProvider)
{
    private const int MemoryLimit = 100_000;
    private readonly ConcurrentDictionary<string, (FileVerdict Verdict, DateTimeOffset Expires)> _memory = new(StringComparer.OrdinalIgnoreCase);

    // The hashes SQLite held at the snapshot (a one-shot scan takes one): a hash not in it is not asked of SQLite.
    private HashSet<string>? _stored;

    /// <summary>
    /// Takes a snapshot of the hashes SQLite holds (at most <paramref name="limit"/> verdicts), so that a hash it does
    /// not hold costs no query; a verdict another process stores after this is not seen. False when there are more.
    /// </summary>
    public bool Snapshot(int limit)
    {
        _stored = store.StoredHashes(timeProvider.GetUtcNow(), limit);
        return _stored is not null;
    }

    public FileVerdict? TryGet(string hash)
    {
        var now = timeProvider.GetUtcNow();
        if (_memory.TryGetValue(hash, out var entry))
        {
            if (entry.Expires > now)
            {
                return entry.Verdict;
            }

            _memory.TryRemove(hash, out _);
        }

        var key = hash.ToLowerInvariant();
        if (_stored is { } snapshot && !snapshot.Contains(key))
        {
            return null;
        }

        if (store.TryGetVerdict(key, now) is { } stored)
        {
            Remember(key, stored.Verdict, stored.Expires);
            return stored.Verdict;
        }

        return null;
    }

    public void Put(FileVerdict verdict)
    {
        var expires = timeProvider.GetUtcNow() + Lifetime(verdict);
        store.PutVerdict(verdict, expires);
        foreach (var key in new[] { verdict.LookupHash, verdict.Sha256, verdict.Md5 })
        {
            if (key is not null)
            {
                Remember(key.ToLowerInvariant(), verdict, expires);
            }
        }
    }

    public TimeSpan Lifetime(FileVerdict verdict) =>
        !verdict.IsFound ? options.UnknownLifetime
        : verdict.Positives > 0 ? options.MaliciousLifetime
        : options.CleanLifetime;

    private void Remember(string key, FileVerdict verdict, DateTimeOffset expires)
    {
        if (_memory.Count >= MemoryLimit)
        {
            // Bounded memory: start over rather than track recency; SQLite still has everything.
            _memory.Clear();
        }

        _memory[key] = (verdict, expires);
    }
}
