using Vigil.Analysis.Decoding;
using Vigil.Analysis.Rules.Lists;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Patterns;

namespace Vigil.Analysis.Rules;

/// <summary>
/// The loaded rule tree (spec §3.5): the category templates (ids below 10) at the top, every other rule a child of its
/// if_sid / if_group / if_level parents or of its category's template, siblings ordered level 0 first, then by level
/// descending, ties in load order.
/// </summary>
internal sealed class RuleSet
{
    private readonly Dictionary<int, Rule> _byId;

    private RuleSet(List<Rule> rules, List<Rule> topLevel, MitreCatalog mitre)
    {
        Rules = rules;
        TopLevel = topLevel;
        Mitre = mitre;
        _byId = rules.ToDictionary(r => r.Id);
        ReferencedSids = rules.SelectMany(r => r.IfMatchedSids).ToHashSet();
        ReferencedGroups = new HashSet<string>(rules.Where(r => r.IfMatchedGroup is not null).Select(r => r.IfMatchedGroup!), StringComparer.OrdinalIgnoreCase);
        MaxTimeframe = rules.Where(r => r.IsContextRule).Select(r => r.Timeframe).DefaultIfEmpty(0).Max();
        foreach (var rule in rules)
        {
            rule.Output = RuleOutput.Create(rule, mitre);
            rule.IsCountedBySid = ReferencedSids.Contains(rule.Id);
            rule.CountedGroups = [.. rule.Groups.Where(ReferencedGroups.Contains)];
        }
    }

    /// <summary>Every rule in load order.</summary>
    public IReadOnlyList<Rule> Rules { get; }

    public IReadOnlyList<Rule> TopLevel { get; }

    public MitreCatalog Mitre { get; }

    /// <summary>The decoders the rules were loaded against (what <c>decoded_as</c> may name); the pipeline runs them.</summary>
    public DecoderSet Decoders { get; private set; } = DecoderSet.BuiltIn;

    /// <summary>Rule ids some <c>if_matched_sid</c> refers to: their matches are kept for frequency rules.</summary>
    public IReadOnlySet<int> ReferencedSids { get; }

    /// <summary>Groups some <c>if_matched_group</c> refers to.</summary>
    public IReadOnlySet<string> ReferencedGroups { get; }

    public int MaxTimeframe { get; }

    public Rule? Find(int id) => _byId.GetValueOrDefault(id);

    /// <summary>The rule files a configuration loads, in order (spec §3.1): each rule_dir's *.xml by name, then rule_include files.</summary>
    public static IReadOnlyList<string> RuleFilesOf(OssecConfig config)
    {
        var ruleset = config.Ruleset;
        var dirs = ruleset.IsDefault ? ["ruleset/rules"] : ruleset.RuleDirs;
        var includes = ruleset.IsDefault ? ["config/rules/local_rules.xml"] : ruleset.RuleFiles;
        var files = new List<string>();
        foreach (var dir in dirs)
        {
            var full = config.ResolvePath(dir);
            if (Directory.Exists(full))
            {
                files.AddRange(Directory.EnumerateFiles(full, "*.xml")
                    .Where(f => !ruleset.RuleExcludes.Contains(Path.GetFileName(f)))
                    .Order(StringComparer.Ordinal));
            }
        }

        files.AddRange(includes.Select(config.ResolvePath).Where(f => !files.Contains(f)));
        return files;
    }

    /// <summary>Loads the rules a configuration names, collecting every error; the MITRE catalogue comes from <c>ruleset/mitre.json</c>.</summary>
    public static RuleSet Load(OssecConfig config, IEnumerable<string> ruleFiles, DecoderSet decoders, DiagnosticBag diagnostics)
    {
        // ruleset/mitre.json beside the rule directories (the built-in ruleset), else under the home.
        var mitrePath = config.Ruleset.RuleDirs.Select(d => Path.Combine(config.ResolvePath(d), "..", "mitre.json"))
            .Append(config.ResolvePath("ruleset/mitre.json"))
            .FirstOrDefault(File.Exists);
        var mitre = mitrePath is null ? MitreCatalog.Empty : MitreCatalog.Load(mitrePath);
        var declaredLists = config.Ruleset.Lists.ToHashSet(StringComparer.Ordinal);
        var lists = new Dictionary<string, CdbList>(StringComparer.Ordinal);
        CdbList? ResolveList(string path)
        {
            if (!declaredLists.Contains(path))
            {
                return null;
            }

            if (!lists.TryGetValue(path, out var list))
            {
                lists[path] = list = CdbList.Load(config.ResolvePath(path));
            }

            return list;
        }

        var reader = new RuleFileReader(decoders, mitre, ResolveList, diagnostics);
        var rules = new List<RuleDefinition>();
        foreach (var file in ruleFiles)
        {
            // A device, FIFO or huge file (a <rule_include> of /dev/zero) is refused at once, not read forever.
            if (ConfigFile.TryReadText(file, out var error) is not { } text)
            {
                diagnostics.Error(file, 0, error == "file not found" ? "rule file not found" : error!);
                continue;
            }

            rules.AddRange(reader.ReadText(text, file));
        }

        var set = Build(rules, mitre, config.ActiveResponses, diagnostics, reader.Refused);
        set.Decoders = decoders;
        return set;
    }

    /// <summary>Builds the tree from rules in load order; applies overwrite, checks ids and parents, binds active responses.</summary>
    public static RuleSet Build(IEnumerable<RuleDefinition> loaded, MitreCatalog mitre,
        IReadOnlyList<ActiveResponseOptions> activeResponses, DiagnosticBag diagnostics, Dictionary<int, string>? refused = null)
    {
        refused ??= [];
        var ordered = new List<Rule>();
        var byId = new Dictionary<int, Rule>();
        foreach (var definition in loaded)
        {
            if (byId.TryGetValue(definition.Id, out var existing))
            {
                if (definition.IsOverwrite)
                {
                    // overwrite="yes" replaces everything but the rule's place in the tree (spec §3.2).
                    var rule = new Rule(definition with { IfSids = existing.IfSids, IfGroups = existing.IfGroups, IfLevel = existing.IfLevel });
                    ordered[ordered.IndexOf(existing)] = rule;
                    byId[rule.Id] = rule;
                }
                else
                {
                    diagnostics.Error(definition.Source.File, definition.Source.Line,
                        $"duplicate rule id {definition.Id} (first defined at {existing.Source}); use overwrite=\"yes\" to replace it");
                }

                continue;
            }

            if (definition.IsOverwrite)
            {
                diagnostics.Warning(definition.Source.File, definition.Source.Line, $"rule {definition.Id} has overwrite=\"yes\" but no earlier rule has that id");
            }

            var added = new Rule(definition);
            ordered.Add(added);
            byId[definition.Id] = added;
        }

        var topLevel = new List<Rule>();
        var templates = new Dictionary<string, Rule>(StringComparer.Ordinal);
        var placed = new List<Rule>();
        foreach (var rule in ordered)
        {
            if (rule.Id < 10 && rule.IfSids.Count == 0 && rule.IfGroups.Count == 0 && rule.IfLevel is null)
            {
                topLevel.Add(rule);
                templates.TryAdd(rule.Category ?? RuleCategories.Syslog, rule);
                placed.Add(rule);
                continue;
            }

            var parents = new List<Rule>();
            foreach (var sid in rule.IfSids)
            {
                if (byId.TryGetValue(sid, out var parent) && parent != rule)
                {
                    parents.Add(parent);
                }
                else if (parent == rule)
                {
                    // Wazuh's own ruleset has one (rule 91821); Wazuh loads it, and so does Vigil, without the loop.
                    diagnostics.Warning(rule.Source.File, rule.Source.Line, $"rule {rule.Id}: if_sid {sid} names the rule itself; that parent is ignored");
                }
                else if (refused.TryGetValue(sid, out var reason))
                {
                    diagnostics.Error(rule.Source.File, rule.Source.Line, $"rule {rule.Id}: its if_sid {sid} was left out ({reason})");
                    if (rule.IfSids.All(refused.ContainsKey))
                    {
                        refused.TryAdd(rule.Id, reason);
                    }
                }
                else
                {
                    diagnostics.Error(rule.Source.File, rule.Source.Line, $"rule {rule.Id}: if_sid {sid} names no loaded rule");
                }
            }

            foreach (var group in rule.IfGroups)
            {
                parents.AddRange(placed.Where(r => r != rule && r.HasGroup(group) && !parents.Contains(r)));
            }

            if (rule.IfLevel is { } ifLevel)
            {
                parents.AddRange(placed.Where(r => r != rule && r.Level >= ifLevel && !parents.Contains(r)));
            }

            if (rule.IfSids.Count == 0 && rule.IfGroups.Count == 0 && rule.IfLevel is null)
            {
                var category = rule.Category ?? RuleCategories.Syslog;
                if (templates.TryGetValue(category, out var template))
                {
                    parents.Add(template);
                }
                else
                {
                    diagnostics.Error(rule.Source.File, rule.Source.Line, $"rule {rule.Id}: no template rule for category '{category}' (rules 1–7 of 0010-rules_config.xml)");
                }
            }

            foreach (var parent in parents)
            {
                InsertChild(parent, rule);
            }

            placed.Add(rule);
        }

        BindActiveResponses(ordered, activeResponses, diagnostics);
        return new RuleSet(ordered, topLevel, mitre);
    }

    // A new rule goes before the first sibling with a strictly lower sort level, so ties keep load order.
    private static void InsertChild(Rule parent, Rule child)
    {
        var index = parent.Children.FindIndex(c => c.SortLevel < child.SortLevel);
        if (index < 0)
        {
            parent.Children.Add(child);
        }
        else
        {
            parent.Children.Insert(index, child);
        }
    }

    /// <summary>Wazuh's <c>Rule_AddAR</c> (spec §5.2), done once at load.</summary>
    private static void BindActiveResponses(List<Rule> rules, IReadOnlyList<ActiveResponseOptions> activeResponses, DiagnosticBag diagnostics)
    {
        foreach (var ar in activeResponses)
        {
            Pattern? groupPattern = null;
            if (ar.RulesGroup is not null && !Pattern.TryCompile(ar.RulesGroup, PatternType.OsRegex, false, out groupPattern, out var error))
            {
                diagnostics.Error(ar.Source.File, ar.Source.Line, $"<active-response> <rules_group>: {error}");
                continue;
            }

            foreach (var rule in rules)
            {
                if (rule.Level == 0 || rule.Options.HasFlag(RuleOptions.NoAr))
                {
                    continue;
                }

                var bind = (ar.Level, groupPattern) switch
                {
                    ({ } level, { } group) => rule.Level >= level && group.IsMatch(rule.GroupString),
                    ({ } level, null) => rule.Level >= level,
                    (null, { } group) => group.IsMatch(rule.GroupString),
                    _ => false,
                };
                if (bind || ar.RulesId.Contains(rule.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                {
                    rule.ActiveResponses.Add(ar);
                }
            }
        }
    }
}
