using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;
using Vigil.Core.Prevention;
using Vigil.Intel.LocalLists;
using Vigil.Intel.Yara;

namespace Vigil.Intel.Prevention;

/// <summary>
/// Prevention's verdicts from what intelligence already knows, never from the network: the hash lists (in memory) first,
/// then the verdict cache of each intelligence service (memory, then its SQLite store). A miss is remembered for a
/// moment so a file opened in a loop costs one store lookup per interval, not one per open. A held first execution
/// (hold_unknown_exec) is also scanned by the YARA engines through the event's descriptor; a content no rule matched
/// is remembered per rules version, so its next executions are not scanned again until the rules change.
/// </summary>
internal sealed class PreventionVerdicts(
    IReadOnlyList<HashList> lists, IReadOnlyList<VerdictCache> caches, TimeProvider timeProvider, IReadOnlyList<YaraEngine>? engines = null) : IPreventionVerdicts
{
    private const int MissLimit = 100_000;
    private readonly ConcurrentDictionary<(string Sha256, string Version), bool> _unmatched = new();
    private static readonly TimeSpan s_missLifetime = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, long> _misses = new(StringComparer.Ordinal);

    public IReadOnlyList<HashList> Lists => lists;

    /// <summary>
    /// The built-in list, the lists of <c>&lt;prevention&gt;</c> and those of every intelligence service, and the
    /// services' verdict caches. Throws <see cref="Core.VigilException"/> naming a list file that cannot be read.
    /// </summary>
    public static PreventionVerdicts Create(
        PreventionOptions prevention, IEnumerable<IntelService> services, Func<string, string> resolvePath, TimeProvider timeProvider, IReadOnlyList<YaraEngine>? engines = null)
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

        return new PreventionVerdicts(all, [.. intel.Select(s => s.Cache)], timeProvider, engines);
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

    public async ValueTask<PreventionVerdict> ScanAsync(SafeFileHandle file, string sha256, CancellationToken cancellationToken)
    {
        var known = Lookup(sha256);
        if (known.Kind != PreventionVerdictKind.Unknown || engines is not { Count: > 0 })
        {
            return known;
        }

        foreach (var engine in engines)
        {
            // Rules not compiled yet (or none in force): this engine has nothing to say.
            if (engine.Version is not { } version || _unmatched.ContainsKey((sha256, version)))
            {
                continue;
            }

            // The descriptor is the event's: yr_rules_scan_fd maps it, and reading it raises no new event.
            var result = await engine.ScanAsync(file, cancellationToken);
            if (result.IsMatch)
            {
                return new PreventionVerdict(PreventionVerdictKind.Malicious, engine.Name, result.Matches[0].Rule);
            }

            if (result.Error is null && result.Skipped is null)
            {
                if (_unmatched.Count >= MissLimit)
                {
                    _unmatched.Clear();
                }

                _unmatched[(sha256, version)] = true;
            }
        }

        // No rule matched: still no verdict (detection looks it up as usual), so the lists and the cache keep applying.
        return PreventionVerdict.Unknown;
    }
}
