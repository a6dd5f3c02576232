using Vigil.Analysis.Rules.Lists;
using Vigil.Core.Configuration;
using Vigil.Core.Patterns;

namespace Vigil.Analysis.Rules;

/// <summary>Rule <c>&lt;options&gt;</c>.</summary>
[Flags]
internal enum RuleOptions
{
    None = 0,
    AlertByEmail = 1,
    NoEmailAlert = 2,
    LogAlert = 4,
    NoLog = 8,
    NoAr = 16,
    NoFullLog = 32,
    NoCounter = 64,
}

/// <summary>A <c>&lt;field name="x"&gt;</c> condition.</summary>
internal sealed record FieldCondition(string Name, Pattern Pattern);

/// <summary>A <c>&lt;list field lookup check&gt;</c> condition.</summary>
internal sealed record ListCondition(string Field, CdbLookup Lookup, Pattern? Check, CdbList List, string Path);

/// <summary>One context constraint of a frequency rule: same_X, not_same_X / different_X.</summary>
internal sealed record ContextConstraint(string Field, bool MustBeSame);

/// <summary>A loaded rule: its attributes, conditions, place in the tree, and run-time counters.</summary>
internal sealed class Rule
{
    public required int Id { get; init; }
    public required int Level { get; set; }
    public required string Description { get; set; }
    public required SourceLocation Source { get; set; }

    /// <summary>The full group string: the file's <c>&lt;group name&gt;</c> followed by the rule's <c>&lt;group&gt;</c>.</summary>
    public string GroupString { get; set; } = "";

    /// <summary>The group string split on commas, empty entries dropped.</summary>
    public IReadOnlyList<string> Groups { get; set; } = [];

    public int? Frequency { get; set; }
    public int Timeframe { get; set; } = 360;
    public int Ignore { get; set; }
    public bool NoAlert { get; set; }
    public bool IsLowAccuracy { get; set; }
    public RuleOptions Options { get; set; }
    public IReadOnlyList<string> MitreIds { get; set; } = [];
    public IReadOnlyList<string> Info { get; set; } = [];
    public IReadOnlyList<string> Cve { get; set; } = [];
    public DescriptionTemplate DescriptionTemplate { get; set; } = DescriptionTemplate.Empty;

    // Conditions, checked in Wazuh's order (spec §3.4).
    public string? DecodedAs { get; set; }
    public string? Category { get; set; }
    public Pattern? Match { get; set; }
    public Pattern? Regex { get; set; }
    public string? Action { get; set; }
    public bool IsActionNegated { get; set; }

    /// <summary>Static-field conditions (user, url, id, location, …) as (field, pattern), in load order.</summary>
    public IReadOnlyList<FieldCondition> StaticConditions { get; set; } = [];

    public IReadOnlyList<FieldCondition> Fields { get; set; } = [];
    public IpCondition? SrcIp { get; set; }
    public IpCondition? DstIp { get; set; }
    public IReadOnlyList<ListCondition> Lists { get; set; } = [];

    // Tree.
    public IReadOnlyList<int> IfSids { get; set; } = [];
    public IReadOnlyList<string> IfGroups { get; set; } = [];
    public int? IfLevel { get; set; }
    public IReadOnlyList<int> IfMatchedSids { get; set; } = [];
    public string? IfMatchedGroup { get; set; }
    public IReadOnlyList<ContextConstraint> ContextConstraints { get; set; } = [];
    public bool IsGlobalFrequency { get; set; }
    public List<Rule> Children { get; } = [];

    /// <summary><c>&lt;time&gt;</c>: the local "HH:MM" range, inclusive, and whether the rule matches outside it instead.</summary>
    public (string From, string To, bool IsOutside)? DayTime { get; set; }

    /// <summary><c>&lt;weekday&gt;</c>: the days (0 = Sunday) the rule matches on.</summary>
    public bool[]? WeekDays { get; set; }

    /// <summary><c>&lt;ignore&gt;</c>: the fields whose values, once this rule fires, are recorded for check_if_ignored.</summary>
    public IReadOnlyList<string> IgnoreFields { get; set; } = [];

    /// <summary><c>&lt;check_if_ignored&gt;</c>: the fields whose recorded values silence this rule.</summary>
    public IReadOnlyList<string> CheckIgnoredFields { get; set; } = [];

    /// <summary><c>&lt;check_diff&gt;</c>: matches only when the log differs from the last one this rule saw from the same host.</summary>
    public bool IsCheckDiff { get; set; }

    /// <summary><c>&lt;if_fts&gt;</c>: matches only the first time the decoder's fts fields take these values.</summary>
    public bool IsFirstTimeSeen { get; set; }

    /// <summary>Groups, compliance arrays and MITRE names as alerts print them, worked out at load.</summary>
    public RuleOutput? Output { get; set; }

    /// <summary>Active responses bound to this rule at load (spec §5.2).</summary>
    public List<ActiveResponseOptions> ActiveResponses { get; } = [];

    /// <summary>Whether some <c>if_matched_sid</c> names this rule (worked out when the rule set is built).</summary>
    public bool IsCountedBySid { get; set; }

    /// <summary>This rule's groups that some <c>if_matched_group</c> names, in <see cref="Groups"/> order.</summary>
    public string[] CountedGroups { get; set; } = [];

    // Run time.
    public long FiredTimes;
    public DateTimeOffset? IgnoredSince { get; set; }

    public bool IsContextRule => IfMatchedSids.Count > 0 || IfMatchedGroup is not null;

    /// <summary>Wazuh's sibling sort key: level × 100, level 0 as 99 × 100 (tried first), accuracy 0 without the × 100.</summary>
    public int SortLevel => (Level == 0 ? 99 : Level) * (IsLowAccuracy ? 1 : 100);

    public bool HasGroup(string group)
    {
        foreach (var g in Groups)
        {
            if (string.Equals(g, group, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() => $"rule {Id} (level {Level}) at {Source}";
}
