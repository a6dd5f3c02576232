using System.Text.Json;
using Vigil.Core.Configuration;
using Vigil.Core.Patterns;

namespace Vigil.Intel.Selection;

/// <summary>
/// integratord's alert filter for one <c>&lt;integration&gt;</c> block: <c>event_location</c> (OSMatch against the
/// alert's <c>location</c>), <c>level</c> (minimum <c>rule.level</c>), <c>group</c> (exact compare against an entry
/// of <c>rule.groups</c>) and <c>rule_id</c>; ANDed, each applied only when configured.
/// </summary>
internal sealed class AlertSelector
{
    private readonly Pattern? _location;
    private readonly int? _level;
    private readonly HashSet<string> _groups;
    private readonly HashSet<string> _ruleIds;

    public AlertSelector(IntegrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _location = string.IsNullOrEmpty(options.EventLocation) ? null : Pattern.Compile(options.EventLocation, PatternType.OsMatch);
        _level = options.Level is > 0 ? options.Level : null;
        _groups = new HashSet<string>(options.Groups.Select(g => g.Trim()).Where(g => g.Length > 0), StringComparer.Ordinal);
        _ruleIds = new HashSet<string>(options.RuleIds.Select(r => r.Trim()).Where(r => r.Length > 0), StringComparer.Ordinal);
    }

    public bool IsMatch(JsonElement alert)
    {
        if (alert.ValueKind != JsonValueKind.Object || !alert.TryGetProperty("rule", out var rule) || rule.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        if (_location is not null)
        {
            // integratord skips alerts without a location when event_location is configured.
            if (!alert.TryGetProperty("location", out var location) || location.ValueKind != JsonValueKind.String
                || !_location.IsMatch(location.GetString()!))
            {
                return false;
            }
        }

        if (_level is { } minimum && (!TryGetInt(rule, "level", out var level) || level < minimum))
        {
            return false;
        }

        if (_groups.Count > 0)
        {
            if (!rule.TryGetProperty("groups", out var groups) || groups.ValueKind != JsonValueKind.Array
                || !groups.EnumerateArray().Any(g => g.ValueKind == JsonValueKind.String && _groups.Contains(g.GetString()!)))
            {
                return false;
            }
        }

        if (_ruleIds.Count > 0)
        {
            if (!rule.TryGetProperty("id", out var id) || !_ruleIds.Contains(id.ValueKind == JsonValueKind.String ? id.GetString()! : id.GetRawText()))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryGetInt(JsonElement parent, string name, out int value)
    {
        value = 0;
        if (!parent.TryGetProperty(name, out var element))
        {
            return false;
        }

        return element.ValueKind switch
        {
            JsonValueKind.Number => element.TryGetInt32(out value),
            JsonValueKind.String => int.TryParse(element.GetString(), out value),
            _ => false,
        };
    }
}
