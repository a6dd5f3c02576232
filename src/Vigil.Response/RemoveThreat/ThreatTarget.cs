using System.Text.Json;
using Vigil.Core.Events;

namespace Vigil.Response.RemoveThreat;

/// <summary>
/// The one file an alert flags and the hashes it was flagged with. The path is taken whole from one JSON string
/// field — never split, globbed or passed to a shell — from the first of these that is present:
/// <c>data.virustotal.source.file</c> (the seed's 87105), <c>data.vigil.source.file</c> (Vigil's local
/// intelligence, same shape), <c>syscheck.path</c> (a FIM alert); the hashes come from the same object, and so does
/// the size when the alert has it (<c>size</c> in a verdict's source, <c>size_after</c> in a FIM alert).
/// </summary>
internal sealed record ThreatTarget(string Path, string? Md5, string? Sha1, string? Sha256)
{
    private static readonly string[] s_virusTotalSource = AlertPaths.Segments(AlertPaths.VirusTotalSource);
    private static readonly string[] s_vigilSource = AlertPaths.Segments(AlertPaths.VigilSource);

    public string? AlertId { get; init; }

    public string? RuleId { get; init; }

    public string? Description { get; init; }

    public string? AgentId { get; init; }

    public string? AgentName { get; init; }

    /// <summary>The flagged file's size in bytes, when the alert gives it: a file of another size is not hashed.</summary>
    public long? Size { get; init; }

    public bool HasHash => Md5 is not null || Sha1 is not null || Sha256 is not null;

    /// <summary>Reads the target from an alert; null and the reason when the alert names no file.</summary>
    public static ThreatTarget? FromAlert(JsonElement alert, out string? error)
    {
        error = null;
        if (alert.ValueKind != JsonValueKind.Object)
        {
            error = "the message carries no alert object";
            return null;
        }

        ThreatTarget? target = null;
        if (Walk(alert, s_virusTotalSource) is { } vt && vt.TryGetProperty("file", out var vtFile))
        {
            target = FromSource(vtFile, vt, "md5", "sha1", "sha256", AlertPaths.VirusTotalSourceFile, out error);
            target = target is null ? null : target with { Size = Number(vt, "size") };
        }
        else if (Walk(alert, s_vigilSource) is { } local && local.TryGetProperty("file", out var localFile))
        {
            target = FromSource(localFile, local, "md5", "sha1", "sha256", AlertPaths.VigilSourceFile, out error);
            target = target is null ? null : target with { Size = Number(local, "size") };
        }
        else if (Walk(alert, "syscheck") is { } fim && fim.TryGetProperty("path", out var fimPath))
        {
            target = FromSource(fimPath, fim, "md5_after", "sha1_after", "sha256_after", AlertPaths.SyscheckPath, out error);
            target = target is null ? null : target with { Size = Number(fim, "size_after") };
        }
        else
        {
            error = $"the alert names no file ({AlertPaths.VirusTotalSourceFile}, {AlertPaths.VigilSourceFile} or {AlertPaths.SyscheckPath})";
        }

        if (target is null)
        {
            return null;
        }

        return target with
        {
            AlertId = String(alert, "id"),
            RuleId = Walk(alert, "rule") is { } rule ? String(rule, "id") : null,
            Description = Walk(alert, "rule") is { } r ? String(r, "description") : null,
            AgentId = Walk(alert, "agent") is { } agent ? String(agent, "id") : null,
            AgentName = Walk(alert, "agent") is { } a ? String(a, "name") : null,
        };
    }

    private static ThreatTarget? FromSource(JsonElement file, JsonElement source, string md5, string sha1, string sha256, string field, out string? error)
    {
        if (file.ValueKind != JsonValueKind.String)
        {
            error = $"{field} is not a string";
            return null;
        }

        // A lone surrogate escape names no file a Linux system can hold (names are bytes; see docs/text.md).
        if (TextOf(file) is not { } path)
        {
            error = $"{field} is not valid text (a lone surrogate escape)";
            return null;
        }

        error = null;
        return new ThreatTarget(path, Hash(source, md5, 32), Hash(source, sha1, 40), Hash(source, sha256, 64));
    }

    private static string? Hash(JsonElement source, string name, int length)
    {
        var text = String(source, name);
        return text is not null && text.Length == length && text.All(char.IsAsciiHexDigit) ? text.ToLowerInvariant() : null;
    }

    // A size as Wazuh writes it (syscheck's size_after is a string) or as a number; anything else is no size.
    private static long? Number(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt64(out var n) && n >= 0 => n,
            JsonValueKind.String when long.TryParse(value.GetString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) => n,
            _ => null,
        };
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? TextOf(value) : null;

    private static string? TextOf(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static JsonElement? Walk(JsonElement element, params string[] names)
    {
        foreach (var name in names)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                return null;
            }
        }

        return element.ValueKind == JsonValueKind.Object ? element : null;
    }
}
