using Vigil.Core.Configuration;
using Vigil.Core.Patterns;

namespace Vigil.Analysis.Rules;

/// <summary>
/// One rule exactly as its file defines it: attributes, conditions and tree options, immutable once read. The rule
/// set builds a <see cref="Rule"/> from it, which adds the rule's place in the tree and its run-time counters.
/// </summary>
internal sealed record RuleDefinition
{
    public required int Id { get; init; }
    public required int Level { get; init; }
    public required SourceLocation Source { get; init; }
    public string Description { get; init; } = "";

    /// <summary>The full group string: the file's <c>&lt;group name&gt;</c> followed by the rule's <c>&lt;group&gt;</c>.</summary>
    public string GroupString { get; init; } = "";

    /// <summary>The group string split on commas, empty entries dropped.</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>Whether the rule was read with <c>overwrite="yes"</c> (it replaces an earlier rule of the same id).</summary>
    public bool IsOverwrite { get; init; }

    public int? Frequency { get; init; }
    public int Timeframe { get; init; } = 360;
    public int Ignore { get; init; }
    public bool NoAlert { get; init; }
    public bool IsLowAccuracy { get; init; }
    public RuleOptions Options { get; init; }
    public IReadOnlyList<string> MitreIds { get; init; } = [];
    public IReadOnlyList<string> Info { get; init; } = [];
    public IReadOnlyList<string> Cve { get; init; } = [];
    public DescriptionTemplate DescriptionTemplate { get; init; } = DescriptionTemplate.Empty;

    // Conditions, checked in Wazuh's order (spec §3.4).
    public string? DecodedAs { get; init; }
    public string? Category { get; init; }
    public Pattern? Match { get; init; }
    public Pattern? Regex { get; init; }
    public string? Action { get; init; }
    public bool IsActionNegated { get; init; }

    /// <summary>Static-field conditions (user, url, id, location, …) as (field, pattern), in load order.</summary>
    public IReadOnlyList<FieldCondition> StaticConditions { get; init; } = [];

    public IReadOnlyList<FieldCondition> Fields { get; init; } = [];
    public IpCondition? SrcIp { get; init; }
    public IpCondition? DstIp { get; init; }
    public IReadOnlyList<ListCondition> Lists { get; init; } = [];

    // Tree.
    public IReadOnlyList<int> IfSids { get; init; } = [];
    public IReadOnlyList<string> IfGroups { get; init; } = [];
    public int? IfLevel { get; init; }
    public IReadOnlyList<int> IfMatchedSids { get; init; } = [];
    public string? IfMatchedGroup { get; init; }
    public IReadOnlyList<ContextConstraint> ContextConstraints { get; init; } = [];
    public bool IsGlobalFrequency { get; init; }

    /// <summary><c>&lt;time&gt;</c>: the local "HH:MM" range, inclusive, and whether the rule matches outside it instead.</summary>
    public (string From, string To, bool IsOutside)? DayTime { get; init; }

    /// <summary><c>&lt;weekday&gt;</c>: the days (0 = Sunday) the rule matches on.</summary>
    public bool[]? WeekDays { get; init; }

    /// <summary><c>&lt;ignore&gt;</c>: the fields whose values, once this rule fires, are recorded for check_if_ignored.</summary>
    public IReadOnlyList<string> IgnoreFields { get; init; } = [];

    /// <summary><c>&lt;check_if_ignored&gt;</c>: the fields whose recorded values silence this rule.</summary>
    public IReadOnlyList<string> CheckIgnoredFields { get; init; } = [];

    /// <summary><c>&lt;check_diff&gt;</c>: matches only when the log differs from the last one this rule saw from the same host.</summary>
    public bool IsCheckDiff { get; init; }

    /// <summary><c>&lt;if_fts&gt;</c>: matches only the first time the decoder's fts fields take these values.</summary>
    public bool IsFirstTimeSeen { get; init; }

    /// <summary>A frequency / context rule: it counts earlier matches of <c>if_matched_sid</c> or <c>if_matched_group</c>.</summary>
    public bool IsContextRule => IfMatchedSids.Count > 0 || IfMatchedGroup is not null;
}
