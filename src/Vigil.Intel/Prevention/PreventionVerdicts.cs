using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;
using Vigil.Core.Prevention;
using Vigil.Intel.LocalLists;

namespace Vigil.Intel.Prevention;

/// <summary>
/// Prevention's verdicts from what intelligence already knows, never from the network: the hash lists (in memory) first,
/// then the verdict cache of each intelligence service (memory, then its SQLite store). A miss is remembered for a
/// moment so a file opened in a loop costs one store lookup per interval, not one per open.
/// </summary>
internal sealed class PreventionVerdicts(IReadOnlyList<HashList> lists, IReadOnlyList<VerdictCache> caches, TimeProvider timeProvider) : IPreventionVerdicts
{
    private const int MissLimit = 100_000;
    private static readonly TimeSpan s_missLifetime = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, long> _misses = new(StringComparer.Ordinal);

    public IReadOnlyList<HashList> Lists => lists;

    /// <summary>
    /// The built-in list, the lists of <c>&lt;prevention&gt;</c> and those of every intelligence service, and the
    /// services' verdict caches. Throws <see cref="Core.VigilException"/> naming a list file that cannot be read.
    /// </summary>
    public static PreventionVerdicts Create(PreventionOptions prevention, IEnumerable<IntelService> services, Func<string, string> resolvePath, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(prevention);
        var intel = services.ToList();
        var all = new List<HashList> { HashList.Builtin };
        all.AddRange(prevention.HashLists.Select(p => HashList.Load(resolvePath(p))));
        foreach (var list in intel.SelectMany(s => s.Local.Lists))
        {
            if (!all.Contains(list))
            {
                all.Add(list);
            }
        }

        return new PreventionVerdicts(all, [.. intel.Select(s => s.Cache)], timeProvider);
    }

    public PreventionVerdict Lookup(string sha256)
    {
        foreach (var list in lists)
        {
            if (list.TryMatch(sha256, out var threat))
            {
                return new PreventionVerdict(PreventionVerdictKind.Malicious, list.Name, threat);
            }
        }

        if (caches.Count == 0)
        {
            return PreventionVerdict.Unknown;
        }

        var now = timeProvider.GetTimestamp();
        if (_misses.TryGetValue(sha256, out var until) && until > now)
        {
            return PreventionVerdict.Unknown;
        }

        foreach (var cache in caches)
        {
            if (cache.TryGet(sha256) is { IsFound: true } verdict)
            {
                return verdict.Malicious > 0
                    ? new PreventionVerdict(PreventionVerdictKind.Malicious, "verdict-cache", verdict.SuggestedThreatLabel)
                    : new PreventionVerdict(PreventionVerdictKind.Clean, "verdict-cache", null);
            }
        }

        if (_misses.Count >= MissLimit)
        {
            _misses.Clear();
        }

        _misses[sha256] = now + (long)(s_missLifetime.TotalSeconds * timeProvider.TimestampFrequency);
        return PreventionVerdict.Unknown;
    }

    // No local content engine is wired here yet: a held first execution gets what the lists and the cache say.
    public ValueTask<PreventionVerdict> ScanAsync(SafeFileHandle file, string sha256, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Lookup(sha256));
}
