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

/// <summary>
/// A loaded rule: its <see cref="RuleDefinition"/> (copied into get-only properties, so the engine reads them without
/// an indirection), its place in the tree, what the rule set works out for it, and its run-time counters.
/// </summary>
internal sealed class Rule(RuleDefinition definition)
{
    public RuleDefinition Definition { get; } = definition;

    public int Id { get; } = definition.Id;
    public int Level { get; } = definition.Level;
    public string Description { get; } = definition.Description;
    public SourceLocation Source { get; } = definition.Source;
    public string GroupString { get; } = definition.GroupString;
    public IReadOnlyList<string> Groups { get; } = definition.Groups;
    public int? Frequency { get; } = definition.Frequency;
    public int Timeframe { get; } = definition.Timeframe;
    public int Ignore { get; } = definition.Ignore;
    public bool NoAlert { get; } = definition.NoAlert;
    public bool IsLowAccuracy { get; } = definition.IsLowAccuracy;
    public RuleOptions Options { get; } = definition.Options;
    public IReadOnlyList<string> MitreIds { get; } = definition.MitreIds;
    public IReadOnlyList<string> Info { get; } = definition.Info;
    public IReadOnlyList<string> Cve { get; } = definition.Cve;
    public DescriptionTemplate DescriptionTemplate { get; } = definition.DescriptionTemplate;

    // Conditions, checked in Wazuh's order (spec §3.4).
    public string? DecodedAs { get; } = definition.DecodedAs;
    public string? Category { get; } = definition.Category;
    public Pattern? Match { get; } = definition.Match;
    public Pattern? Regex { get; } = definition.Regex;
    public string? Action { get; } = definition.Action;
    public bool IsActionNegated { get; } = definition.IsActionNegated;
    public IReadOnlyList<FieldCondition> StaticConditions { get; } = definition.StaticConditions;
    public IReadOnlyList<FieldCondition> Fields { get; } = definition.Fields;
    public IpCondition? SrcIp { get; } = definition.SrcIp;
    public IpCondition? DstIp { get; } = definition.DstIp;
    public IReadOnlyList<ListCondition> Lists { get; } = definition.Lists;

    // Tree.
    public IReadOnlyList<int> IfSids { get; } = definition.IfSids;
    public IReadOnlyList<string> IfGroups { get; } = definition.IfGroups;
    public int? IfLevel { get; } = definition.IfLevel;
    public IReadOnlyList<int> IfMatchedSids { get; } = definition.IfMatchedSids;
    public string? IfMatchedGroup { get; } = definition.IfMatchedGroup;
    public IReadOnlyList<ContextConstraint> ContextConstraints { get; } = definition.ContextConstraints;
    public bool IsGlobalFrequency { get; } = definition.IsGlobalFrequency;
    public List<Rule> Children { get; } = [];
    public (string From, string To, bool IsOutside)? DayTime { get; } = definition.DayTime;
    public bool[]? WeekDays { get; } = definition.WeekDays;
    public IReadOnlyList<string> IgnoreFields { get; } = definition.IgnoreFields;
    public IReadOnlyList<string> CheckIgnoredFields { get; } = definition.CheckIgnoredFields;
    public bool IsCheckDiff { get; } = definition.IsCheckDiff;
    public bool IsFirstTimeSeen { get; } = definition.IsFirstTimeSeen;
    public bool IsContextRule { get; } = definition.IsContextRule;

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
