using System.Globalization;
using System.Xml.Linq;
using Vigil.Analysis.Decoding;
using Vigil.Analysis.Rules.Lists;
using Vigil.Analysis.Xml;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Patterns;

namespace Vigil.Analysis.Rules;

/// <summary>
/// Reads one rule file in Wazuh's rule XML: <c>&lt;var&gt;</c> definitions and <c>&lt;group name&gt;</c> roots holding
/// <c>&lt;rule&gt;</c> elements (spec §3.1–3.3). Every problem is reported at file:line; a bad rule is left out, the
/// rest of the file still loads.
/// </summary>
internal sealed class RuleFileReader(DecoderSet decoders, MitreCatalog mitre, Func<string, CdbList?> resolveList, DiagnosticBag diagnostics)
{
    // Elements compared with OSMatch against a static field (or the location / hostname).
    private static readonly Dictionary<string, string> s_staticElements = new(StringComparer.Ordinal)
    {
        ["user"] = "dstuser",
        ["srcuser"] = "srcuser",
        ["dstuser"] = "dstuser",
        ["url"] = "url",
        ["id"] = "id",
        ["status"] = "status",
        ["hostname"] = "hostname",
        ["program_name"] = "program_name",
        ["data"] = "data",
        ["extra_data"] = "extra_data",
        ["location"] = "location",
        ["protocol"] = "protocol",
        ["system_name"] = "system_name",
        ["srcport"] = "srcport",
        ["dstport"] = "dstport",
        ["srcgeoip"] = "srcgeoip",
        ["dstgeoip"] = "dstgeoip",
    };

    // same_X / not_same_X / different_X: X → the field compared.
    private static readonly Dictionary<string, string> s_contextFields = new(StringComparer.Ordinal)
    {
        ["source_ip"] = "srcip",
        ["srcip"] = "srcip",
        ["src_port"] = "srcport",
        ["srcport"] = "srcport",
        ["dst_port"] = "dstport",
        ["dstport"] = "dstport",
        ["dstip"] = "dstip",
        ["location"] = "location",
        ["user"] = "dstuser",
        ["srcuser"] = "srcuser",
        ["dstuser"] = "dstuser",
        ["id"] = "id",
        ["protocol"] = "protocol",
        ["action"] = "action",
        ["url"] = "url",
        ["data"] = "data",
        ["extra_data"] = "extra_data",
        ["status"] = "status",
        ["system_name"] = "system_name",
        ["srcgeoip"] = "srcgeoip",
        ["dstgeoip"] = "dstgeoip",
        ["agent"] = "agent",
    };

    private static readonly Dictionary<string, RuleOptions> s_options = new(StringComparer.Ordinal)
    {
        ["alert_by_email"] = RuleOptions.AlertByEmail,
        ["no_email_alert"] = RuleOptions.NoEmailAlert,
        ["log_alert"] = RuleOptions.LogAlert,
        ["no_log"] = RuleOptions.NoLog,
        ["no_ar"] = RuleOptions.NoAr,
        ["no_full_log"] = RuleOptions.NoFullLog,
        ["no_counter"] = RuleOptions.NoCounter,
    };

    private string _file = "";
    private List<(string Name, string Value)> _variables = [];

    /// <summary>Reads the rules of one file, in file order.</summary>
    public List<RuleDefinition> Read(string path) => ReadText(File.ReadAllText(path), path);

    public List<RuleDefinition> ReadText(string text, string fileName)
    {
        _file = fileName;
        _variables = [];
        var rules = new List<RuleDefinition>();
        XElement root;
        try
        {
            root = OsXml.Parse(text);
        }
        catch (OsXmlException ex)
        {
            diagnostics.Error(_file, ex.Line, $"malformed rule file: {ex.Message}");
            return rules;
        }

        // Text outside any element means the file is not rule XML at all (a <rule_include> of /etc/passwd).
        if (OsXml.StrayTextOf(root) is { } stray)
        {
            diagnostics.Error(_file, stray.Line, $"text outside any element ('{Excerpt(stray.Excerpt)}'): this is not a rule file; expected <group name=\"…\"> elements");
            return rules;
        }

        foreach (var element in root.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "var":
                    ReadVariable(element);
                    break;
                case "group":
                    ReadGroup(element, rules);
                    break;
                default:
                    Error(element, $"unexpected <{element.Name.LocalName}> at the top of a rule file: expected <group name=\"…\"> or <var name=\"…\">");
                    break;
            }
        }

        return rules;
    }

    private static string Excerpt(string text)
    {
        var trimmed = text.Trim().ReplaceLineEndings(" ");
        return trimmed.Length <= 40 ? trimmed : trimmed[..40] + "…";
    }

    private void ReadVariable(XElement element)
    {
        var name = element.Attribute("name")?.Value;
        if (string.IsNullOrWhiteSpace(name))
        {
            Error(element, "<var> needs a name attribute");
            return;
        }

        _variables.RemoveAll(v => v.Name == name);
        _variables.Add((name, Expand(element.Value)));
        _variables.Sort((a, b) => b.Name.Length.CompareTo(a.Name.Length));
    }

    private string Expand(string value)
    {
        if (_variables.Count == 0 || !value.Contains('$'))
        {
            return value;
        }

        foreach (var (name, replacement) in _variables)
        {
            value = value.Replace("$" + name, replacement, StringComparison.Ordinal);
        }

        return value;
    }

    private void ReadGroup(XElement group, List<RuleDefinition> rules)
    {
        var attributes = group.Attributes().ToList();
        var nameAttribute = group.Attribute("name");
        if (nameAttribute is null || attributes.Count != 1)
        {
            Error(group, "<group> must have exactly one attribute, name (e.g. <group name=\"syscheck,\">)");
            if (nameAttribute is null)
            {
                return;
            }
        }

        var groupName = Expand(nameAttribute!.Value);
        foreach (var element in group.Elements())
        {
            if (element.Name.LocalName == "rule")
            {
                if (ReadRule(element, groupName) is { } rule)
                {
                    rules.Add(rule);
                }
            }
            else if (element.Name.LocalName == "var")
            {
                ReadVariable(element);
            }
            else
            {
                Error(element, $"unexpected <{element.Name.LocalName}> in <group>: only <rule> elements belong there");
            }
        }
    }

    // A rule is read by small readers, one per kind of element, each returning the definition with what it read
    // (or null when the element is not its kind); the rule is kept only if none of them reported an error.
    private RuleDefinition? ReadRule(XElement element, string groupName)
    {
        var errorsBefore = ErrorCount();
        var id = ReadIntAttribute(element, "id", 1, 999_999, required: true, "a rule id of 1 to 6 digits");
        var level = ReadIntAttribute(element, "level", 0, 16, required: true, "a level from 0 to 16");
        var rule = ReadAttributes(element, new RuleDefinition
        {
            Id = id ?? 0,
            Level = level ?? 0,
            Source = new SourceLocation(_file, Line(element)),
            GroupString = groupName,
        });

        foreach (var child in element.Elements())
        {
            var name = child.Name.LocalName;
            // Text exactly as written, as Wazuh reads it: "a|b| " keeps its last alternative " ".
            var value = Expand(child.Value);
            rule = ReadCondition(child, name, value, rule)
                ?? ReadTreeOption(child, name, value, rule)
                ?? ReadOutputOption(child, name, value, rule)
                ?? ReadTimingOption(child, name, value, rule)
                ?? ReadUnsupported(child, name, value, rule);
        }

        rule = Complete(element, rule);
        if (id is null || level is null || ErrorCount() > errorsBefore)
        {
            if (id is { } leftOut && _refusal is not null)
            {
                Refused[leftOut] = _refusal;
            }

            _refusal = null;
            return null;
        }

        return rule;
    }

    private int ErrorCount() => diagnostics.Items.Count(d => d.Severity == DiagnosticSeverity.Error);

    private RuleDefinition ReadAttributes(XElement element, RuleDefinition rule)
    {
        foreach (var attribute in element.Attributes())
        {
            var value = Expand(attribute.Value);
            switch (attribute.Name.LocalName)
            {
                case "id" or "level":
                    break;
                case "frequency":
                    rule = rule with { Frequency = ParseInt(element, "frequency", value, 2, 9999, "a count from 2 to 9999") };
                    break;
                case "timeframe":
                    rule = rule with { Timeframe = ParseInt(element, "timeframe", value, 1, 99999, "seconds, 1 to 99999") ?? 360 };
                    break;
                case "ignore":
                    rule = rule with { Ignore = ParseInt(element, "ignore", value, 0, 999999, "seconds") ?? 0 };
                    break;
                case "maxsize":
                    ParseInt(element, "maxsize", value, 1, 9999, "a size from 1 to 9999");
                    break;
                case "accuracy":
                    rule = rule with { IsLowAccuracy = (ParseInt(element, "accuracy", value, 0, 1, "0 or 1") ?? 1) == 0 };
                    break;
                case "noalert":
                    rule = rule with { NoAlert = (ParseInt(element, "noalert", value, 0, 1, "0 or 1") ?? 0) == 1 };
                    break;
                case "overwrite":
                    if (value is not ("yes" or "no"))
                    {
                        Error(element, $"attribute overwrite must be yes or no, got '{value}'");
                    }

                    rule = rule with { IsOverwrite = value == "yes" };
                    break;
                default:
                    Error(element, $"unknown <rule> attribute '{attribute.Name.LocalName}': allowed are id, level, frequency, timeframe, ignore, maxsize, accuracy, noalert, overwrite");
                    break;
            }
        }

        return rule;
    }

    // What an event must look like: patterns, decoder, category, fields, addresses, lists.
    private RuleDefinition? ReadCondition(XElement child, string name, string value, RuleDefinition rule)
    {
        switch (name)
        {
            case "match":
                return rule with { Match = ReadPattern(child, value, PatternType.OsMatch) };
            case "regex":
                return rule with { Regex = ReadPattern(child, value, PatternType.OsRegex) };
            case "decoded_as":
                CheckDecoder(child, value);
                return rule with { DecodedAs = value };
            case "category":
                if (!RuleCategories.All.Contains(value))
                {
                    Error(child, $"<category> '{value}' is not one of {string.Join(", ", RuleCategories.All.Order(StringComparer.Ordinal))}");
                }

                return rule with { Category = value };
            case "field":
                return ReadField(child, value) is { } field ? rule with { Fields = [.. rule.Fields, field] } : rule;
            case "action":
                return rule with { Action = value, IsActionNegated = IsNegated(child) };
            case "srcip" or "dstip":
                if (!IpCondition.TryParse(value, out var ip, out var ipError))
                {
                    Error(child, $"<{name}>: {ipError}");
                    return rule;
                }

                return name == "srcip" ? rule with { SrcIp = ip } : rule with { DstIp = ip };
            case "list":
                return ReadList(child, value) is { } list ? rule with { Lists = [.. rule.Lists, list] } : rule;
            default:
                if (!s_staticElements.TryGetValue(name, out var staticField))
                {
                    return null;
                }

                return ReadPattern(child, value, PatternType.OsMatch) is { } pattern
                    ? rule with { StaticConditions = [.. rule.StaticConditions, new FieldCondition(staticField, pattern)] }
                    : rule;
        }
    }

    private void CheckDecoder(XElement child, string value)
    {
        if (decoders.RefusedReason(value) is { } refusedDecoder)
        {
            _refusal = $"its <decoded_as> decoder '{value}' was left out ({refusedDecoder})";
            Error(child, $"rule left out: {_refusal}");
        }
        else if (DecoderSet.ModuleDecoderNames.Contains(value))
        {
            diagnostics.Warning(_file, Line(child), $"<decoded_as> names '{value}', a decoder of a Wazuh module Vigil does not run: the rule loads, but no event reaches it");
        }
        else if (!decoders.Contains(value))
        {
            Error(child, $"<decoded_as> names unknown decoder '{value}': known decoders are {string.Join(", ", decoders.Names)}");
        }
    }

    // Where the rule sits in the tree and what earlier events it counts.
    private RuleDefinition? ReadTreeOption(XElement child, string name, string value, RuleDefinition rule)
    {
        switch (name)
        {
            case "if_sid":
                return rule with { IfSids = ReadIdList(child, value) };
            case "if_matched_sid":
                return rule with { IfMatchedSids = ReadIdList(child, value) };
            case "if_group":
                return rule with { IfGroups = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] };
            case "if_level":
                return rule with { IfLevel = ParseInt(child, "if_level", value, 0, 16, "a level from 0 to 16") };
            case "if_matched_group":
                return rule with { IfMatchedGroup = value };
            case "global_frequency":
                return rule with { IsGlobalFrequency = true };
            case "same_field" or "not_same_field" or "different_field":
                return rule with { ContextConstraints = [.. rule.ContextConstraints, new ContextConstraint(value, name == "same_field")] };
            case var s when s.StartsWith("same_", StringComparison.Ordinal) || s.StartsWith("not_same_", StringComparison.Ordinal) || s.StartsWith("different_", StringComparison.Ordinal):
                var (prefix, same) = s.StartsWith("not_same_", StringComparison.Ordinal) ? ("not_same_", false)
                    : s.StartsWith("different_", StringComparison.Ordinal) ? ("different_", false)
                    : ("same_", true);
                if (s_contextFields.TryGetValue(s[prefix.Length..], out var contextField))
                {
                    return rule with { ContextConstraints = [.. rule.ContextConstraints, new ContextConstraint(contextField, same)] };
                }

                Error(child, $"unknown context option <{s}>: use same_/not_same_/different_ with one of {string.Join(", ", s_contextFields.Keys.Order(StringComparer.Ordinal))}, or same_field");
                return rule;
            default:
                return null;
        }
    }

    // What the alert says: description, groups, options, MITRE, references.
    private RuleDefinition? ReadOutputOption(XElement child, string name, string value, RuleDefinition rule)
    {
        switch (name)
        {
            case "description":
                return rule with { Description = value.Replace('\n', ' ') };
            case "group":
                return rule with { GroupString = rule.GroupString + value };
            case "options":
                var options = rule.Options;
                foreach (var option in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (s_options.TryGetValue(option, out var flag))
                    {
                        options |= flag;
                    }
                    else
                    {
                        Error(child, $"unknown option '{option}': allowed are {string.Join(", ", s_options.Keys)}");
                    }
                }

                return rule with { Options = options };
            case "mitre":
                return rule with { MitreIds = [.. rule.MitreIds, .. ReadMitre(child)] };
            case "info":
                return rule with { Info = [.. rule.Info, value] };
            case "cve":
                return rule with { Cve = [.. rule.Cve, value] };
            default:
                return null;
        }
    }

    private List<string> ReadMitre(XElement element)
    {
        var ids = new List<string>();
        foreach (var mitreId in element.Elements())
        {
            if (mitreId.Name.LocalName is "id" or "techniqueID")
            {
                var technique = mitreId.Value.Trim();
                if (!mitre.Contains(technique))
                {
                    diagnostics.Warning(_file, Line(mitreId), $"MITRE technique '{technique}' is not in ruleset/mitre.json: the alert shows its id without tactic or name");
                }

                ids.Add(technique);
            }
            else if (mitreId.Name.LocalName != "tacticID")
            {
                Error(mitreId, $"unexpected <{mitreId.Name.LocalName}> in <mitre>: expected <id>");
            }
        }

        return ids;
    }

    // When the rule may fire: time of day, weekday, ignore windows, first-time-seen and changed-output checks.
    private RuleDefinition? ReadTimingOption(XElement child, string name, string value, RuleDefinition rule)
    {
        switch (name)
        {
            case "time":
                var dayTime = RuleTimes.ParseTime(value);
                if (dayTime is null)
                {
                    Error(child, $"<time> '{value}' is not a time range such as \"6 pm - 8:30 am\" or \"!09:00-17:00\"");
                }

                return rule with { DayTime = dayTime };
            case "weekday":
                var weekDays = RuleTimes.ParseWeekDays(value);
                if (weekDays is null)
                {
                    Error(child, $"<weekday> '{value}' is not a list of days such as \"monday,sat\" or \"weekdays\"");
                }

                return rule with { WeekDays = weekDays };
            case "ignore" or "check_if_ignored":
                var words = value.Split(',').Select(w => w.TrimStart(' ').Split(' ')[0]).ToList();
                if (words.Any(w => w.Length == 0))
                {
                    Error(child, $"wrong <{name}> option: '{value}'");
                    return rule;
                }

                return name == "ignore" ? rule with { IgnoreFields = words } : rule with { CheckIgnoredFields = words };
            case "check_diff":
                return rule with { IsCheckDiff = true };
            case "if_fts":
                return rule with { IsFirstTimeSeen = true };
            default:
                return null;
        }
    }

    // Elements Vigil refuses with a reason, and unknown ones.
    private RuleDefinition ReadUnsupported(XElement child, string name, string value, RuleDefinition rule)
    {
        switch (name)
        {
            case "if_matched_regex":
                Refuse(child, name, "it needs every earlier event kept for the timeframe, which Vigil does not keep; use if_matched_sid or if_matched_group");
                break;
            case "compiled_rule":
                Refuse(child, name, $"it names a C function compiled into Wazuh ('{value}'), which Vigil does not have");
                break;
            default:
                Error(child, $"unknown rule element <{name}>");
                break;
        }

        return rule;
    }

    // Checks what needs the whole rule, then works out what follows from it (groups, description template, implied parents).
    private RuleDefinition Complete(XElement element, RuleDefinition rule)
    {
        if (!element.Elements().Any(e => e.Name.LocalName == "description"))
        {
            Error(element, "<description> is mandatory");
        }

        if (rule.ContextConstraints.Count > 0 && !rule.IsContextRule)
        {
            Error(element, "Invalid use of frequency/context options. Missing if_matched_sid or if_matched_group");
        }

        if (rule.Frequency is not null && !rule.IsContextRule)
        {
            Error(element, "frequency needs if_matched_sid or if_matched_group");
        }

        rule = rule with
        {
            DescriptionTemplate = DescriptionTemplate.Parse(rule.Description),
            Groups = [.. rule.GroupString.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
        };
        if (rule.IfMatchedSids.Count > 0 && rule.IfSids.Count == 0)
        {
            rule = rule with { IfSids = rule.IfMatchedSids }; // if_matched_sid without if_sid implies if_sid (spec §3.3)
        }

        if (rule.IfMatchedGroup is not null && rule.IfSids.Count == 0 && rule.IfGroups.Count == 0)
        {
            rule = rule with { IfGroups = [rule.IfMatchedGroup] };
        }

        return rule;
    }

    /// <summary>Rules left out because of an element Vigil refuses, with the reason (so that their children say why).</summary>
    public Dictionary<int, string> Refused { get; } = [];

    private string? _refusal;

    private void Refuse(XElement element, string name, string reason)
    {
        _refusal = $"<{name}> is not supported by Vigil: {reason}";
        Error(element, $"rule left out: {_refusal}");
    }

    private Pattern? ReadPattern(XElement element, string value, PatternType defaultType)
    {
        var typeAttribute = element.Attribute("type")?.Value;
        var type = defaultType;
        if (typeAttribute is not null && !Pattern.TryParseType(typeAttribute, out type))
        {
            Error(element, $"<{element.Name.LocalName}> type '{typeAttribute}' must be osmatch, osregex or pcre2");
            return null;
        }

        if (!Pattern.TryCompile(value, type, IsNegated(element), out var pattern, out var error))
        {
            Error(element, $"<{element.Name.LocalName}>: {error}");
            return null;
        }

        if (pattern.EngineNote is { } note)
        {
            diagnostics.Warning(_file, Line(element), $"<{element.Name.LocalName}>: {note}");
        }

        return pattern;
    }

    private bool IsNegated(XElement element)
    {
        var negate = element.Attribute("negate")?.Value;
        if (negate is not null and not ("yes" or "no"))
        {
            Error(element, $"<{element.Name.LocalName}> negate must be yes or no, got '{negate}'");
        }

        return negate == "yes";
    }

    private FieldCondition? ReadField(XElement element, string value)
    {
        var name = element.Attribute("name")?.Value;
        if (string.IsNullOrWhiteSpace(name))
        {
            Error(element, "<field> needs a name attribute");
            return null;
        }

        if (EventFields.IsStaticName(name) || name is "user" or "srcgeoip" or "dstgeoip")
        {
            Error(element, $"<field name=\"{name}\"> names a static field: use the <{name}> element instead");
            return null;
        }

        return ReadPattern(element, value, PatternType.OsRegex) is { } pattern ? new FieldCondition(name, pattern) : null;
    }

    private ListCondition? ReadList(XElement element, string path)
    {
        var field = element.Attribute("field")?.Value;
        var lookupText = element.Attribute("lookup")?.Value;
        if (string.IsNullOrWhiteSpace(field))
        {
            Error(element, "<list> needs a field attribute");
            return null;
        }

        if (!CdbList.TryParseLookup(lookupText, out var lookup))
        {
            Error(element, $"<list> lookup '{lookupText}' must be one of match_key, not_match_key, match_key_value, address_match_key, not_address_match_key, address_match_key_value");
            return null;
        }

        Pattern? check = null;
        if ((element.Attribute("check_value") ?? element.Attribute("check"))?.Value is { } checkText && !Pattern.TryCompile(checkText, PatternType.OsRegex, false, out check, out var error))
        {
            Error(element, $"<list> check: {error}");
            return null;
        }

        CdbList? list;
        try
        {
            list = resolveList(path);
        }
        catch (Core.VigilException ex)
        {
            Error(element, $"<list> {path}: {ex.Message}");
            return null;
        }

        if (list is null)
        {
            Error(element, $"<list> '{path}' is not declared in <ruleset><list> of the configuration");
            return null;
        }

        return new ListCondition(field, lookup, check, list, path);
    }

    private List<int> ReadIdList(XElement element, string value)
    {
        var ids = new List<int>();
        foreach (var part in value.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var sid) && part.Length <= 6)
            {
                ids.Add(sid);
            }
            else
            {
                Error(element, $"<{element.Name.LocalName}> '{part}' is not a rule id");
            }
        }

        return ids;
    }

    private int? ReadIntAttribute(XElement element, string name, int min, int max, bool required, string allowed)
    {
        var attribute = element.Attribute(name);
        if (attribute is null)
        {
            if (required)
            {
                Error(element, $"<rule> needs the {name} attribute ({allowed})");
            }

            return null;
        }

        return ParseInt(element, name, Expand(attribute.Value), min, max, allowed);
    }

    private int? ParseInt(XElement element, string name, string value, int min, int max, string allowed)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var result) && result >= min && result <= max)
        {
            return result;
        }

        Error(element, $"{name} '{value}' is invalid: expected {allowed}");
        return null;
    }

    private void Error(XElement element, string message) => diagnostics.Error(_file, Line(element), message);

    private static int Line(XObject node) => OsXml.LineOf(node);
}
