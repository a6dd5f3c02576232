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
                "hostname" => e.Agent?.Name,
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

        if (rule.IsContextRule)
        {
            if (_context.Check(rule, e) is not { } hits)
            {
                return false;
            }

            _contextHits[rule] = hits;
        }

        return true;
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
