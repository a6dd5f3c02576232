using Vigil.Analysis.Decoding;

namespace Vigil.Analysis.Rules;

/// <summary>
/// Earlier matches kept for frequency rules (<c>if_matched_sid</c>, <c>if_matched_group</c>; spec §3.8). Only rules
/// and groups some rule refers to keep a list. Memory is bounded: entries older than the longest timeframe go, and a
/// list keeps at most <see cref="MaxEntriesPerList"/> entries (the oldest are dropped first).
/// </summary>
internal sealed class ContextStore(RuleSet rules)
{
    public const int MaxEntriesPerList = 4096;

    private readonly Dictionary<int, LinkedList<StoredMatch>> _bySid = [];
    private readonly Dictionary<string, LinkedList<StoredMatch>> _byGroup = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Remembers an event whose final rule was <paramref name="rule"/>.</summary>
    public void Record(Rule rule, AnalysisEvent analysisEvent)
    {
        StoredMatch? match = null;
        // Which ids and groups are counted is known per rule at load: most rules have nothing to record.
        if (rule.IsCountedBySid)
        {
            Add(GetList(_bySid, rule.Id), match ??= new StoredMatch(analysisEvent), analysisEvent.ReceivedAt);
        }

        foreach (var group in rule.CountedGroups)
        {
            Add(GetList(_byGroup, group), match ??= new StoredMatch(analysisEvent), analysisEvent.ReceivedAt);
        }
    }

    /// <summary>
    /// Whether a context rule fires for this event: at least frequency − 1 earlier matches within the timeframe, from
    /// the same agent unless global_frequency, meeting the same_/different_ constraints, and not already claimed by a
    /// rule of this level or higher. Returns the matches counted (newest first).
    /// </summary>
    public List<StoredMatch>? Check(Rule rule, AnalysisEvent current)
    {
        var needed = Math.Max((rule.Frequency ?? 2) - 1, 1);
        var since = current.ReceivedAt.AddSeconds(-rule.Timeframe);
        List<StoredMatch>? found = null;
        foreach (var list in ListsFor(rule))
        {
            for (var node = list.Last; node is not null; node = node.Previous)
            {
                var stored = node.Value;
                if (stored.Event.ReceivedAt < since)
                {
                    break;
                }

                if (stored.MatchedLevel >= rule.Level
                    || (!rule.IsGlobalFrequency && stored.Event.AgentId != current.AgentId)
                    || !MeetsConstraints(rule, stored.Event, current))
                {
                    continue;
                }

                (found ??= []).Add(stored);
                if (found.Count >= needed)
                {
                    return found;
                }
            }
        }

        return null;
    }

    private IEnumerable<LinkedList<StoredMatch>> ListsFor(Rule rule)
    {
        foreach (var sid in rule.IfMatchedSids)
        {
            if (_bySid.TryGetValue(sid, out var list))
            {
                yield return list;
            }
        }

        if (rule.IfMatchedGroup is not null && _byGroup.TryGetValue(rule.IfMatchedGroup, out var groupList))
        {
            yield return groupList;
        }
    }

    private static bool MeetsConstraints(Rule rule, AnalysisEvent earlier, AnalysisEvent current)
    {
        foreach (var constraint in rule.ContextConstraints)
        {
            var a = Value(earlier, constraint.Field);
            var b = Value(current, constraint.Field);
            var same = a is not null && b is not null && string.Equals(a, b, StringComparison.Ordinal);
            if (constraint.MustBeSame ? !same : same)
            {
                return false;
            }
        }

        return true;
    }

    private static string? Value(AnalysisEvent e, string field) => field switch
    {
        "location" => e.Location,
        "agent" => e.AgentId,
        _ => e.Fields.Get(field),
    };

    private void Add(LinkedList<StoredMatch> list, StoredMatch match, DateTimeOffset now)
    {
        list.AddLast(match);
        var horizon = now.AddSeconds(-rules.MaxTimeframe);
        while (list.First is { } first && (list.Count > MaxEntriesPerList || first.Value.Event.ReceivedAt < horizon))
        {
            list.RemoveFirst();
        }
    }

    private static LinkedList<StoredMatch> GetList<TKey>(Dictionary<TKey, LinkedList<StoredMatch>> map, TKey key)
        where TKey : notnull
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = new LinkedList<StoredMatch>();
        }

        return list;
    }
}

/// <summary>An earlier event a frequency rule may count; <see cref="MatchedLevel"/> marks it as used by a rule of that level.</summary>
internal sealed class StoredMatch(AnalysisEvent analysisEvent)
{
    public AnalysisEvent Event { get; } = analysisEvent;

    public int MatchedLevel { get; set; }
}
