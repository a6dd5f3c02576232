using System.Globalization;
using System.Text.Json;

namespace Vigil.Manager.Index;

/// <summary>A change to a quarantine record that an alert reports.</summary>
internal sealed record QuarantineChange(long QuarantineId, string State, string Path, string? Sha256, string? AlertId, string? RuleId, string? RestoredTo);

/// <summary>What the index takes out of one alert document.</summary>
internal sealed record AlertFields(
    string Id,
    DateTimeOffset Timestamp,
    int RuleId,
    int Level,
    string AgentId,
    string AgentName,
    string Description,
    string? File,
    string? CausedBy,
    IReadOnlyList<string> Groups,
    QuarantineChange? Quarantine)
{
    /// <summary>Vigil's quarantine rules: the file went into quarantine, was restored, was deleted for good.</summary>
    public const int QuarantinedRule = 200303;
    public const int RestoredRule = 200300;
    public const int DeletedRule = 200301;

    /// <summary>Reads an alert; null when the text is not an alert document (no rule id or timestamp).</summary>
    public static AlertFields? Read(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("rule", out var rule) || rule.ValueKind != JsonValueKind.Object
                || !TryTime(root, out var timestamp)
                || !int.TryParse(Text(rule, "id"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ruleId))
            {
                return null;
            }

            var level = rule.TryGetProperty("level", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt32() : 0;
            var groups = new List<string>();
            if (rule.TryGetProperty("groups", out var g) && g.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in g.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String && item.GetString() is { Length: > 0 } name)
                    {
                        groups.Add(name);
                    }
                }
            }

            root.TryGetProperty("agent", out var agent);
            root.TryGetProperty("data", out var data);
            var file = Path(root, "syscheck", "path")
                ?? Path(data, "virustotal", "source", "file")
                ?? Path(data, "vigil", "source", "file")
                ?? Path(data, "parameters", "alert", "data", "virustotal", "source", "file")
                ?? Path(data, "parameters", "alert", "data", "vigil", "source", "file")
                ?? Path(data, "parameters", "alert", "syscheck", "path")
                ?? Path(data, "parameters", "path");
            var causedBy = Path(data, "virustotal", "source", "alert_id")
                ?? Path(data, "vigil", "source", "alert_id")
                ?? Path(data, "parameters", "alert", "id")
                ?? Path(data, "parameters", "alert_id");
            return new AlertFields(
                Text(root, "id") ?? "",
                timestamp,
                ruleId,
                level,
                Text(agent, "id") ?? "000",
                Text(agent, "name") ?? "",
                Text(rule, "description") ?? "",
                file,
                causedBy,
                groups,
                QuarantineOf(ruleId, data));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static QuarantineChange? QuarantineOf(int ruleId, JsonElement data)
    {
        var state = ruleId switch
        {
            QuarantinedRule => QuarantineStates.Quarantined,
            RestoredRule => QuarantineStates.Restored,
            DeletedRule => QuarantineStates.Deleted,
            _ => null,
        };
        if (state is null
            || !long.TryParse(Path(data, "parameters", "id"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var id)
            || Path(data, "parameters", "path") is not { } path)
        {
            return null;
        }

        return new QuarantineChange(id, state, path, Path(data, "parameters", "sha256"), Path(data, "parameters", "alert_id"),
            Path(data, "parameters", "rule_id"), Path(data, "parameters", "restored_to"));
    }

    /// <summary>Wazuh's timestamp, <c>2026-11-28T10:00:00.123+0100</c> (an offset without a colon), or any ISO 8601 time.</summary>
    internal static bool TryTime(JsonElement root, out DateTimeOffset timestamp)
    {
        timestamp = default;
        if (Text(root, "timestamp") is not { } text)
        {
            return false;
        }

        if (text.Length > 5 && text[^5] is '+' or '-' && !text.AsSpan(text.Length - 4).ContainsAnyExcept("0123456789"))
        {
            text = string.Concat(text.AsSpan(0, text.Length - 2), ":", text.AsSpan(text.Length - 2));
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out timestamp);
    }

    /// <summary>A string (or number, as text) at a path of object keys; null when any step is missing.</summary>
    private static string? Path(JsonElement element, params ReadOnlySpan<string> keys)
    {
        foreach (var key in keys)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(key, out element))
            {
                return null;
            }
        }

        return element.ValueKind switch
        {
            JsonValueKind.String => element.GetString(),
            JsonValueKind.Number => element.GetRawText(),
            _ => null,
        };
    }

    private static string? Text(JsonElement element, string key) => Path(element, key);
}
