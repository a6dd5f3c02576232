using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Vigil.Analysis.Rules;

/// <summary>
/// What a rule contributes to every alert it produces, worked out once at load: its plain groups, its compliance
/// arrays with the prefix stripped (<c>pci_dss_11.5</c> → pci_dss ["11.5"]), and its MITRE ids, tactics and techniques.
/// </summary>
internal sealed class RuleOutput
{
    private static readonly (string Prefix, string Key)[] s_compliance =
    [
        ("pci_dss_", "pci_dss"), ("cis_", "cis"), ("gdpr_", "gdpr"), ("gpg13_", "gpg13"), ("hipaa_", "hipaa"),
        ("nist_800_53_", "nist_800_53"), ("tsc_", "tsc"),
    ];

    private RuleOutput(Rule rule, string[] groups, (JsonEncodedText Key, string[] Values)[] compliance, string[] mitreIds, string[] tactics, string[] techniques)
    {
        Groups = groups;
        Compliance = compliance;
        MitreIds = mitreIds;
        MitreTactics = tactics;
        MitreTechniques = techniques;
        GroupsJson = Alerts.AlertJson.EncodeArray(groups);
        MitreJson = mitreIds.Length > 0 ? Alerts.AlertJson.EncodeMitre(mitreIds, tactics, techniques) : null;
        ComplianceJson = [.. compliance.Select(c => (c.Key, Alerts.AlertJson.EncodeArray(c.Values)))];
        IdJson = JsonEncodedText.Encode(rule.Id.ToString(CultureInfo.InvariantCulture));
        Description = rule.Description;
        DescriptionJson = JsonEncodedText.Encode(rule.Description, JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
    }

    /// <summary>The rule id as the alert's <c>rule.id</c> string, encoded once.</summary>
    public JsonEncodedText IdJson { get; }

    /// <summary>The description as written in the rule: what alerts print when it has no field to fill in.</summary>
    public string Description { get; }

    /// <summary><see cref="Description"/> encoded once, as alerts.json escapes it.</summary>
    public JsonEncodedText DescriptionJson { get; }

    /// <summary><see cref="Groups"/> as the JSON array alerts print, encoded once.</summary>
    public byte[] GroupsJson { get; }

    /// <summary>The alert's <c>mitre</c> object, encoded once; null when the rule names no technique.</summary>
    public byte[]? MitreJson { get; }

    /// <summary><see cref="Compliance"/> with each array as the JSON alerts print, encoded once.</summary>
    public (JsonEncodedText Key, byte[] ValuesJson)[] ComplianceJson { get; }

    public string[] Groups { get; }

    public (JsonEncodedText Key, string[] Values)[] Compliance { get; }

    public string[] MitreIds { get; }

    public string[] MitreTactics { get; }

    public string[] MitreTechniques { get; }

    public static RuleOutput Create(Rule rule, MitreCatalog mitre)
    {
        var groups = rule.Groups.Where(g => g.Length > 0 && !s_compliance.Any(c => g.StartsWith(c.Prefix, StringComparison.Ordinal))).ToArray();
        var compliance = s_compliance
            .Select(c => (Key: JsonEncodedText.Encode(c.Key), Values: rule.Groups.Where(g => g.StartsWith(c.Prefix, StringComparison.Ordinal)).Select(g => g[c.Prefix.Length..]).ToArray()))
            .Where(c => c.Values.Length > 0)
            .ToArray();
        var found = rule.MitreIds.Select(mitre.Find).Where(f => f is not null).Select(f => f!.Value).ToList();
        return new RuleOutput(
            rule,
            groups,
            compliance,
            [.. rule.MitreIds],
            [.. found.SelectMany(f => f.Tactics).Distinct()],
            [.. found.Select(f => f.Technique)]);
    }
}
