using Vigil.Analysis.Decoding;

namespace Vigil.Analysis.Rules;

/// <summary>The rule that an event ends on, and the earlier events a frequency rule counted.</summary>
internal sealed record RuleMatch(Rule Rule, IReadOnlyList<AnalysisEvent>? PreviousEvents, long FiredTimes);

/// <summary>
/// Evaluates the rule tree against decoded events with Wazuh's semantics (spec §3.6): top-level templates of the
/// decoder's category, depth-first, children in sibling order, first match wins, deepest match returned; a level-0
/// result silences the event. One engine serves one thread.
/// </summary>
internal sealed class RuleEngine(RuleSet rules, TimeProvider timeProvider)
{
    private readonly ContextStore _context = new(rules);
    private readonly Dictionary<Rule, List<StoredMatch>> _contextHits = new(ReferenceEqualityComparer.Instance);
    private DateTimeOffset _countersResetAt = timeProvider.GetUtcNow();

    // State of check_diff, if_fts and ignore / check_if_ignored; in memory, bounded (cleared when full).
    private const int MaxRemembered = 100_000;
    private readonly Dictionary<(string Host, int Rule), string> _lastLogs = [];
    private readonly HashSet<string> _firstTimeSeen = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ignored = new(StringComparer.Ordinal);

    public RuleSet Rules => rules;

    /// <summary>When set, every rule tried is recorded with whether its own conditions held (for logtest).</summary>
    public List<(Rule Rule, bool Matched)>? Trace { get; set; }

    /// <summary>The final rule for the event, or null when no rule matched or the rule is silent (level 0, noalert).</summary>
    public RuleMatch? Match(AnalysisEvent analysisEvent)
    {
        ResetCountersHourly(analysisEvent.ReceivedAt);
        _contextHits.Clear();
        var category = analysisEvent.Decoder?.Category ?? RuleCategories.Syslog;
        // Indexed loops: these lists are interfaces, and a foreach over one allocates an enumerator per event and rule.
        var topLevel = rules.TopLevel;
        for (var t = 0; t < topLevel.Count; t++)
        {
            var top = topLevel[t];
            if ((top.Category ?? RuleCategories.Syslog) != category)
            {
                continue;
            }

            var (rule, parent) = Descend(top, null, analysisEvent);
            if (rule is null)
            {
                continue;
            }

            return Finish(rule, parent, analysisEvent);
        }

        return null;
    }

    private RuleMatch? Finish(Rule rule, Rule? parent, AnalysisEvent analysisEvent)
    {
        if (rule.Level == 0 || rule.NoAlert)
        {
            return null;
        }

        // ignore="N": after firing, the rule is quiet for N seconds; meanwhile its parent alerts instead (spec §3.2).
        if (rule.Ignore > 0)
        {
            var now = analysisEvent.ReceivedAt;
            if (rule.IgnoredSince is { } since && (now - since).TotalSeconds < rule.Ignore)
            {
                if (parent is null || parent.Level == 0 || parent.NoAlert)
                {
                    return null;
                }

                rule = parent;
            }
            else
            {
                rule.IgnoredSince = now;
            }
        }

        // check_if_ignored: silenced when an earlier alert of a rule with <ignore> recorded the same values.
        if (rule.CheckIgnoredFields.Count > 0 && _ignored.Contains(IgnoreKey(rule.CheckIgnoredFields, analysisEvent)))
        {
            return null;
        }

        if (rule.IgnoreFields.Count > 0)
        {
            Remember(_ignored, IgnoreKey(rule.IgnoreFields, analysisEvent));
        }

        var fired = Interlocked.Increment(ref rule.FiredTimes);
        List<AnalysisEvent>? previous = null;
        if (_contextHits.TryGetValue(rule, out var hits))
        {
            previous = new List<AnalysisEvent>(hits.Count);
            foreach (var hit in hits)
            {
                hit.MatchedLevel = rule.Level;
                previous.Add(hit.Event);
            }
        }

        _context.Record(rule, analysisEvent);
        return new RuleMatch(rule, previous, fired);
    }

    private (Rule? Rule, Rule? Parent) Descend(Rule rule, Rule? parent, AnalysisEvent analysisEvent)
    {
        var matched = Check(rule, analysisEvent);
        Trace?.Add((rule, matched));
        if (!matched)
        {
            return (null, null);
        }

        foreach (var child in rule.Children)
        {
            var found = Descend(child, rule, analysisEvent);
            if (found.Rule is not null)
            {
                return found;
            }
        }

        return rule.NoAlert && rule.Children.Count > 0 ? (null, null) : (rule, parent);
    }

    /// <summary>A rule's own conditions, in Wazuh's order (spec §3.4), all ANDed.</summary>
    private bool Check(Rule rule, AnalysisEvent e)
    {
        if (rule.DecodedAs is not null && (e.Decoder is null || e.Decoder.Name != rule.DecodedAs))
        {
            return false;
        }

        if (rule.Match is not null && !rule.Match.IsMatch(e.Log))
        {
            return false;
        }

        if (rule.Regex is not null && !rule.Regex.IsMatch(e.Log))
        {
            return false;
        }

        if (rule.Action is not null && string.Equals(e.Fields.GetStatic("action"), rule.Action, StringComparison.Ordinal) == rule.IsActionNegated)
        {
            return false;
        }

        var staticConditions = rule.StaticConditions;
        for (var i = 0; i < staticConditions.Count; i++)
        {
            var condition = staticConditions[i];
            var value = condition.Name switch
            {
                "location" => e.FullLocation,
                "hostname" => e.PreDecodedHostname ?? e.Agent?.Name,
                "program_name" => e.ProgramName ?? e.Fields.GetStatic("program_name"),
                _ => e.Fields.GetStatic(condition.Name),
            };
            if (value is null || !condition.Pattern.IsMatch(value))
            {
                return false;
            }
        }

        var fields = rule.Fields;
        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            var value = e.Fields.GetDynamic(field.Name);
            if (value is null || !field.Pattern.IsMatch(value))
            {
                return false;
            }
        }

        if ((rule.SrcIp is not null && !rule.SrcIp.IsMatch(e.Fields.GetStatic("srcip")))
            || (rule.DstIp is not null && !rule.DstIp.IsMatch(e.Fields.GetStatic("dstip"))))
        {
            return false;
        }

        var lists = rule.Lists;
        for (var i = 0; i < lists.Count; i++)
        {
            var list = lists[i];
            var value = e.Fields.Get(list.Field);
            if (value is null || !list.List.Matches(list.Lookup, value, list.Check))
            {
                return false;
            }
        }

        if (rule.DayTime is not null || rule.WeekDays is not null)
        {
            var local = Alerts.LocalClock.ToLocal(e.ReceivedAt);
            if ((rule.DayTime is { } range && !RuleTimes.IsOnTime(range, $"{local.Hour:D2}:{local.Minute:D2}"))
                || (rule.WeekDays is { } days && !days[(int)local.DayOfWeek]))
            {
                return false;
            }
        }

        if (rule.IsContextRule)
        {
            if (_context.Check(rule, e) is not { } hits)
            {
                return false;
            }

            _contextHits[rule] = hits;
        }

        if (rule.IsCheckDiff && !IsDifferentFromLast(rule, e))
        {
            return false;
        }

        if (rule.IsFirstTimeSeen && !IsFirstTimeSeen(e))
        {
            return false;
        }

        return true;
    }

    // check_diff: the first log from a host is only remembered; later, the rule matches when the log changed.
    private bool IsDifferentFromLast(Rule rule, AnalysisEvent e)
    {
        var key = (e.PreDecodedHostname ?? e.Agent?.Name ?? "", rule.Id);
        if (_lastLogs.TryGetValue(key, out var last) && last == e.Log)
        {
            return false;
        }

        if (_lastLogs.Count >= MaxRemembered)
        {
            _lastLogs.Clear();
        }

        _lastLogs[key] = e.Log;
        return last is not null;
    }

    // if_fts: the decoder's fts fields, joined, must not have been seen before.
    private bool IsFirstTimeSeen(AnalysisEvent e)
    {
        if (e.Decoder is not { Fts.Count: > 0 } decoder)
        {
            return false;
        }

        var key = decoder.Name + "\u0001" + string.Join('\u0001', decoder.Fts.Select(f => f switch
        {
            "name" => decoder.Name,
            "location" => e.Location,
            _ => e.Fields.Get(f) ?? "",
        }));
        return Remember(_firstTimeSeen, key);
    }

    private static string IgnoreKey(IReadOnlyList<string> fields, AnalysisEvent e) =>
        string.Join('\u0001', fields.Select(f => f + "=" + (f switch
        {
            "name" => e.Decoder?.Name,
            "location" => e.Location,
            _ => e.Fields.Get(f),
        })));

    private static bool Remember(HashSet<string> set, string key)
    {
        if (set.Count >= MaxRemembered)
        {
            set.Clear();
        }

        return set.Add(key);
    }

    // Wazuh resets firedtimes every hour when it dumps its statistics.
    private void ResetCountersHourly(DateTimeOffset now)
    {
        if (now - _countersResetAt < TimeSpan.FromHours(1))
        {
            return;
        }

        _countersResetAt = now;
        foreach (var rule in rules.Rules)
        {
            Interlocked.Exchange(ref rule.FiredTimes, 0);
        }
    }
}
