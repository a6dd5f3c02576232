using System.Text.Json;
using Vigil.Core.Events;

namespace Vigil.Intel.Selection;

/// <summary>What a lookup needs from a FIM alert: the alert id, its agent, the file and its hashes.</summary>
internal sealed record FileAlert
{
    public const string EmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";
    public const string EmptySha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public required string AlertId { get; init; }

    public required AgentIdentity Agent { get; init; }

    public required string Path { get; init; }

    /// <summary><c>md5_after</c> exactly as the alert holds it (Wazuh copies it into <c>source.md5</c>).</summary>
    public string? Md5 { get; init; }

    public string? Sha1 { get; init; }

    public string? Sha256 { get; init; }

    /// <summary>Realtime and who-data events go before the scheduled-scan backlog.</summary>
    public bool IsRealtime { get; init; }

    /// <summary><c>size_after</c>, when the alert has it.</summary>
    public long? Size { get; init; }

    /// <summary>The hash sent to VirusTotal: SHA-256 when the event has one, MD5 when that is all it has.</summary>
    public string LookupHash => field ??= IsHex(Sha256, 64) ? Sha256!.ToLowerInvariant() : Md5!.ToLowerInvariant();

    /// <summary>Whether the file is empty (size 0 or an empty-file hash): such files are never looked up.</summary>
    public bool IsEmptyFile =>
        Size == 0
        || string.Equals(Md5, EmptyMd5, StringComparison.OrdinalIgnoreCase)
        || string.Equals(Sha1, EmptySha1, StringComparison.OrdinalIgnoreCase)
        || string.Equals(Sha256, EmptySha256, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads a FIM alert; null when it has no <c>syscheck</c> object, no usable hash (a 64-hex SHA-256 or a 32-hex
    /// MD5), or describes a deletion (a deleted file cannot be removed again; Wazuh looks those up too and spends
    /// quota on them).
    /// </summary>
    public static FileAlert? TryParse(JsonElement alert)
    {
        if (alert.ValueKind != JsonValueKind.Object
            || !alert.TryGetProperty("syscheck", out var syscheck) || syscheck.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (GetString(syscheck, "event") == "deleted")
        {
            return null;
        }

        var md5 = GetString(syscheck, "md5_after");
        var sha256 = GetString(syscheck, "sha256_after");
        if (!IsHex(sha256, 64) && !IsHex(md5, 32))
        {
            return null;
        }

        long? size = null;
        if (syscheck.TryGetProperty("size_after", out var sizeElement))
        {
            if (sizeElement.ValueKind == JsonValueKind.Number && sizeElement.TryGetInt64(out var n))
            {
                size = n;
            }
            else if (sizeElement.ValueKind == JsonValueKind.String && long.TryParse(sizeElement.GetString(), out n))
            {
                size = n;
            }
        }

        var mode = GetString(syscheck, "mode");
        return new FileAlert
        {
            AlertId = GetString(alert, "id") ?? "",
            Agent = ReadAgent(alert),
            Path = GetString(syscheck, "path") ?? "",
            Md5 = md5,
            Sha1 = GetString(syscheck, "sha1_after"),
            Sha256 = IsHex(sha256, 64) ? sha256 : null,
            IsRealtime = mode is "realtime" or "whodata",
            Size = size,
        };
    }

    private static AgentIdentity ReadAgent(JsonElement alert)
    {
        if (alert.TryGetProperty("agent", out var agent) && agent.ValueKind == JsonValueKind.Object)
        {
            return new AgentIdentity(GetString(agent, "id") ?? "000", GetString(agent, "name") ?? "", GetString(agent, "ip"));
        }

        return new AgentIdentity("000", "", null);
    }

    private static string? GetString(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool IsHex(string? value, int length)
    {
        if (value is null || value.Length != length)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
