using System.Text.Json;
using System.Xml.Linq;

namespace Vigil.Core.Configuration;

/// <summary>Reads one <c>&lt;integration&gt;</c> block (spec §4.1). The API key never appears in a message.</summary>
internal static partial class IntegrationReader
{
    /// <summary>The environment variable that supplies the VirusTotal key when <c>&lt;api_key&gt;</c> is empty or absent.</summary>
    public const string VirusTotalKeyVariable = "VIGIL_VT_API_KEY";

    private const string VirusTotal = "virustotal";

    private static readonly string[] BuiltInNames = ["slack", "pagerduty", VirusTotal, "shuffle", "maltiverse"];

    private static readonly string[] Allowed =
    [
        "name", "api_key", "hook_url", "level", "rule_id", "group", "event_location", "alert_format", "options",
        "timeout", "retries", "max_log",
    ];

    public static IntegrationOptions? Read(ConfigContext context, XElement block)
    {
        string? name = null;
        var apiKey = "";
        XElement? apiKeyElement = null;
        var integration = new IntegrationOptions { Name = "", Source = context.Locate(block) };
        XElement? alertFormat = null;

        foreach (var element in block.Elements())
        {
            var value = ConfigContext.Text(element);
            switch (element.Name.LocalName)
            {
                case "name":
                    name = ValidName(context, element, value);
                    break;
                case "api_key":
                    apiKey = value;
                    apiKeyElement = element;
                    break;
                case "hook_url":
                    integration = integration with { HookUrl = value.Length == 0 ? null : value };
                    break;
                case "level":
                    integration = integration with { Level = context.Integer(element, 0, AlertsReader.MaxRuleLevel) ?? integration.Level };
                    break;
                case "rule_id":
                    integration = integration with { RuleIds = RuleIds(context, element, value) ?? integration.RuleIds };
                    break;
                case "group":
                    integration = integration with { Groups = ConfigContext.CommaList(value) };
                    break;
                case "event_location":
                    integration = integration with { EventLocation = value.Length == 0 ? null : value };
                    break;
                case "alert_format":
                    alertFormat = element;
                    integration = integration with { AlertFormat = value };
                    break;
                case "options":
                    integration = integration with
                    {
                        Options = JsonObject(context, element, value) ?? integration.Options,
                        OptionsSource = new SourceLocation(context.File, ConfigContext.LineOf(element) + LeadingLines(element.Value)),
                    };
                    break;
                case "timeout":
                    integration = integration with { TimeoutSeconds = context.Integer(element, 1, int.MaxValue, "seconds") ?? integration.TimeoutSeconds };
                    break;
                case "retries":
                    integration = integration with { Retries = context.Integer(element, 0, int.MaxValue) ?? integration.Retries };
                    break;
                case "max_log":
                    integration = integration with { MaxLog = context.Integer(element, 165, 1024) ?? integration.MaxLog };
                    break;
                default:
                    context.UnknownOption(element, "integration", Allowed);
                    break;
            }
        }

        if (name is null)
        {
            if (block.Element("name") is null)
            {
                context.Error(block, "<integration> needs a <name>: virustotal, slack, pagerduty, shuffle, maltiverse or custom-<name>");
            }

            return null;
        }

        if (name == VirusTotal)
        {
            if (alertFormat is not null && integration.AlertFormat != "json")
            {
                context.Error(alertFormat, $"<alert_format> must be 'json' for virustotal, got {ConfigContext.Shown(integration.AlertFormat)}");
            }

            if (IsPlaceholder(apiKey))
            {
                // The guide's own text: sent as a key it only earns a 401 per file, and it would hide the real key
                // in the environment.
                context.Warning(apiKeyElement!, $"<api_key> holds the placeholder {ConfigContext.Shown(apiKey)}, not a key: it is not used; "
                    + $"write your VirusTotal key there or leave it empty and set {VirusTotalKeyVariable}");
                apiKey = "";
            }

            if (apiKey.Length == 0)
            {
                apiKey = context.Options.GetEnvironmentVariable(VirusTotalKeyVariable)?.Trim() ?? "";
            }

            if (apiKey.Length == 0)
            {
                context.Warning(block, $"the virustotal integration has no API key: set <api_key> or the {VirusTotalKeyVariable} environment variable; "
                    + "VirusTotal lookups stay off until then");
            }
        }

        return integration with { Name = name, ApiKey = new Secret(apiKey) };
    }

    /// <summary>Whether an <c>api_key</c> is a template's stand-in (the guide's <c>YOUR_VIRUS_TOTAL_API_KEY</c> and its kin).</summary>
    internal static bool IsPlaceholder(string key) =>
        key.Length > 0 && (PlaceholderKey().IsMatch(key) || key.Equals("CHANGEME", StringComparison.OrdinalIgnoreCase));

    // Generated at build time: an interpreted one is parsed and built again at every start, and this runs for every
    // command that reads the configuration (`vigil scan` included).
    [System.Text.RegularExpressions.GeneratedRegex("^(<\\s*)?(YOUR|INSERT|PUT|REPLACE|ENTER)[ _-].*KEY(\\s*>)?$", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex PlaceholderKey();

    private static string? ValidName(ConfigContext context, XElement element, string value)
    {
        if (BuiltInNames.Contains(value, StringComparer.Ordinal)
            || (value.StartsWith("custom-", StringComparison.Ordinal) && value.Length > "custom-".Length))
        {
            return value;
        }

        context.Error(element, $"<name> must be virustotal, slack, pagerduty, shuffle, maltiverse or custom-<name>, got {ConfigContext.Shown(value)}");
        return null;
    }

    private static IReadOnlyList<string>? RuleIds(ConfigContext context, XElement element, string value)
    {
        var ids = ConfigContext.CommaList(value);
        var bad = ids.Where(id => !ConfigContext.TryParseDigits(id, out _)).ToArray();
        if (ids.Count == 0 || bad.Length > 0)
        {
            var got = bad.Length > 0 ? string.Join(", ", bad.Select(ConfigContext.Shown)) : "an empty value";
            context.Error(element, $"<rule_id> must be a comma-separated list of rule ids such as 100200,100201, got {got}");
            return null;
        }

        return ids;
    }

    /// <summary>The line breaks before the first non-blank character: the JSON text may start on a later line than the element.</summary>
    private static int LeadingLines(string raw) => raw.AsSpan(0, raw.Length - raw.TrimStart().Length).Count('\n');

    private static string? JsonObject(ConfigContext context, XElement element, string value)
    {
        const string Expected = "<options> must be a JSON object such as {\"key\": \"value\"}";
        try
        {
            using var document = JsonDocument.Parse(value);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return value;
            }
        }
        catch (JsonException ex)
        {
            // The line of ossec.conf where the parser stopped; its own message counts lines and bytes of the JSON text,
            // which mean nothing to a reader of ossec.conf.
            var line = ConfigContext.LineOf(element) + LeadingLines(element.Value) + (int)(ex.LineNumber ?? 0);
            context.Diagnostics.Error(context.File, line, $"{Expected}: the JSON text is not valid on this line");
            return null;
        }

        context.Error(element, Expected);
        return null;
    }
}
