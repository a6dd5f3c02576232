using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Vigil.Core.Events;

namespace Vigil.Web.Index;

/// <summary>A change to a quarantine record that an alert reports.</summary>
internal sealed record QuarantineChange(long QuarantineId, string State, string Path, string? Sha256, string? AlertId, string? RuleId, string? RestoredTo);

/// <summary>
/// One alert document for the index: its UTF-8 (the alerts.json line without its newline) and, when whoever wrote it
/// already knows them, the fields the index would otherwise read out of it (they must be what <see cref="AlertFields.ReadUtf8"/>
/// reads). <paramref name="Event"/> names the agent's event the alert is of, when it is one (a store several managers
/// share keeps one alert per event and rule).
/// </summary>
internal readonly record struct AlertDocument(ReadOnlyMemory<byte> Utf8, AlertFields? Fields = null, AlertEventKey? Event = null);

/// <summary>An agent's event: the agent and the sequence it numbered the event with (never reused by that agent).</summary>
internal readonly record struct AlertEventKey(string AgentId, ulong Sequence);

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
    public const int QuarantinedRule = VigilRules.Quarantined;
    public const int RestoredRule = VigilRules.QuarantineRestored;
    public const int DeletedRule = VigilRules.QuarantineDeleted;

    // The dotted paths the index reads, each with its slot. The file an alert is about, and the alert that caused it,
    // are the first of several paths present (FIM, VirusTotal, local lists, an active response's alert, a quarantine line).
    private enum Slot
    {
        Timestamp,
        Id,
        RuleId,
        Level,
        Description,
        Groups,
        AgentId,
        AgentName,
        File0,
        File1,
        File2,
        File3,
        File4,
        File5,
        File6,
        File7,
        Cause0,
        Cause1,
        Cause2,
        Cause3,
        QuarantineId,
        QuarantineSha256,
        QuarantineRuleId,
        QuarantineRestoredTo,
    }

    private static readonly int SlotCount = Enum.GetValues<Slot>().Length;

    private static readonly Dictionary<string, Slot> s_paths = new(StringComparer.Ordinal)
    {
        ["timestamp"] = Slot.Timestamp,
        ["id"] = Slot.Id,
        ["rule.id"] = Slot.RuleId,
        ["rule.level"] = Slot.Level,
        ["rule.description"] = Slot.Description,
        ["rule.groups"] = Slot.Groups,
        ["agent.id"] = Slot.AgentId,
        ["agent.name"] = Slot.AgentName,
        [AlertPaths.SyscheckPath] = Slot.File0,
        [AlertPaths.VirusTotalSourceFile] = Slot.File1,
        [AlertPaths.VigilSourceFile] = Slot.File2,
        [AlertPaths.ParametersAlert + "." + AlertPaths.VirusTotalSourceFile] = Slot.File3,
        [AlertPaths.ParametersAlert + "." + AlertPaths.VigilSourceFile] = Slot.File4,
        [AlertPaths.ParametersAlert + "." + AlertPaths.SyscheckPath] = Slot.File5,
        [AlertPaths.Parameters + ".path"] = Slot.File6,
        ["data.vigil.prevention.file"] = Slot.File7, // an audit-mode prevention alert has no virustotal.source
        [AlertPaths.VirusTotalSourceAlertId] = Slot.Cause0,
        [AlertPaths.VigilSourceAlertId] = Slot.Cause1,
        [AlertPaths.ParametersAlert + ".id"] = Slot.Cause2,
        [AlertPaths.Parameters + ".alert_id"] = Slot.Cause3,
        [AlertPaths.Parameters + ".id"] = Slot.QuarantineId,
        [AlertPaths.Parameters + ".sha256"] = Slot.QuarantineSha256,
        [AlertPaths.Parameters + ".rule_id"] = Slot.QuarantineRuleId,
        [AlertPaths.RestoredTo] = Slot.QuarantineRestoredTo,
    };

    private static readonly Dictionary<string, Slot>.AlternateLookup<ReadOnlySpan<char>> s_lookup = s_paths.GetAlternateLookup<ReadOnlySpan<char>>();

    // The objects that hold a path the index reads ("rule", "data.parameters.alert", …): any other object (the FIM
    // attributes, the VirusTotal report, decoders, compliance) is skipped whole, without reading its properties.
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> s_containers = s_paths.Keys
        .SelectMany(p => p.Select((c, i) => c == '.' ? p[..i] : null).OfType<string>())
        .ToHashSet(StringComparer.Ordinal)
        .GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// Reads an alert in one pass over its text (no document tree); null when the text is not an alert document
    /// (not an object, no rule id or no timestamp) or not JSON.
    /// </summary>
    public static AlertFields? Read(string json)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(json, buffer);
            return Read(buffer.AsSpan(0, length));
        }
        catch (JsonException)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>As <see cref="Read(string)"/>, from the document's UTF-8 bytes.</summary>
    public static AlertFields? ReadUtf8(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return Read(utf8);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static AlertFields? Read(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 256 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        var values = new string?[SlotCount];
        List<string>? groups = null;
        Span<char> path = stackalloc char[512];
        Span<int> lengths = stackalloc int[64]; // the path's length at each object depth
        var pathLength = 0;
        var depth = 0; // object depth below the root
        var arrayDepth = 0; // arrays entered below the current property
        Slot? current = null;
        bool pathUsable;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    if (arrayDepth > 0)
                    {
                        break; // inside an array of objects: nothing the index reads
                    }

                    pathLength = depth == 0 ? 0 : depth <= lengths.Length ? lengths[depth - 1] : path.Length;
                    var nameLength = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
                    pathUsable = depth < lengths.Length && pathLength + nameLength + 1 <= path.Length && !reader.ValueIsEscaped;
                    if (pathUsable)
                    {
                        if (depth > 0)
                        {
                            path[pathLength++] = '.';
                        }

                        pathLength += Encoding.UTF8.GetChars(reader.ValueSpan, path[pathLength..]);
                        current = s_lookup.TryGetValue(path[..pathLength], out var slot) ? slot : null;
                    }
                    else
                    {
                        pathLength = path.Length; // nothing below an unreadable name can match
                        current = null;
                    }

                    break;
                case JsonTokenType.StartObject:
                    if (arrayDepth > 0)
                    {
                        reader.Skip();
                        break;
                    }

                    if (!s_containers.Contains(path[..Math.Min(pathLength, path.Length)]))
                    {
                        reader.Skip();
                        current = null;
                        break;
                    }

                    if (depth < lengths.Length)
                    {
                        lengths[depth] = pathLength;
                    }

                    depth++;
                    current = null;
                    break;
                case JsonTokenType.EndObject:
                    depth--;
                    if (depth < 0)
                    {
                        return Build(values, groups);
                    }

                    break;
                case JsonTokenType.StartArray:
                    if (current == Slot.Groups && arrayDepth == 0)
                    {
                        groups ??= [];
                        arrayDepth++;
                    }
                    else if (arrayDepth > 0)
                    {
                        reader.Skip(); // an array inside the groups array: skipped, the groups go on
                    }
                    else
                    {
                        reader.Skip();
                        current = null;
                    }

                    break;
                case JsonTokenType.EndArray:
                    arrayDepth--;
                    current = null;
                    break;
                case JsonTokenType.String:
                    if (current is { } stringSlot)
                    {
                        var text = reader.GetString();
                        if (stringSlot == Slot.Groups && arrayDepth > 0)
                        {
                            if (text is { Length: > 0 })
                            {
                                groups!.Add(text);
                            }
                        }
                        else
                        {
                            values[(int)stringSlot] ??= text;
                            current = null;
                        }
                    }

                    break;
                case JsonTokenType.Number:
                    if (current is { } numberSlot && arrayDepth == 0)
                    {
                        values[(int)numberSlot] ??= Encoding.UTF8.GetString(reader.ValueSpan);
                        current = null;
                    }

                    break;
                default:
                    if (arrayDepth == 0)
                    {
                        current = null;
                    }

                    break;
            }
        }

        return null; // the document never closed
    }

    private static AlertFields? Build(string?[] values, List<string>? groups)
    {
        if (!int.TryParse(values[(int)Slot.RuleId], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ruleId)
            || !TryTime(values[(int)Slot.Timestamp], out var timestamp))
        {
            return null;
        }

        var level = int.TryParse(values[(int)Slot.Level], NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : 0;
        return new AlertFields(
            values[(int)Slot.Id] ?? "",
            timestamp,
            ruleId,
            level,
            values[(int)Slot.AgentId] ?? "000",
            values[(int)Slot.AgentName] ?? "",
            values[(int)Slot.Description] ?? "",
            First(values, Slot.File0, Slot.File7),
            First(values, Slot.Cause0, Slot.Cause3),
            groups ?? [],
            QuarantineOf(ruleId, values));
    }

    private static string? First(string?[] values, Slot from, Slot to)
    {
        for (var slot = (int)from; slot <= (int)to; slot++)
        {
            if (values[slot] is { } value)
            {
                return value;
            }
        }

        return null;
    }

    private static QuarantineChange? QuarantineOf(int ruleId, string?[] values)
    {
        var state = ruleId switch
        {
            QuarantinedRule => QuarantineStates.Quarantined,
            RestoredRule => QuarantineStates.Restored,
            DeletedRule => QuarantineStates.Deleted,
            _ => null,
        };
        if (state is null
            || !long.TryParse(values[(int)Slot.QuarantineId], NumberStyles.Integer, CultureInfo.InvariantCulture, out var id)
            || values[(int)Slot.File6] is not { } path)
        {
            return null;
        }

        return new QuarantineChange(id, state, path, values[(int)Slot.QuarantineSha256], values[(int)Slot.Cause3],
            values[(int)Slot.QuarantineRuleId], values[(int)Slot.QuarantineRestoredTo]);
    }

    /// <summary>Wazuh's timestamp, <c>2026-11-28T10:00:00.123+0100</c> (an offset without a colon), or any ISO 8601 time.</summary>
    internal static bool TryTime(string? text, out DateTimeOffset timestamp)
    {
        timestamp = default;
        if (text is null)
        {
            return false;
        }

        if (text.Length > 5 && text[^5] is '+' or '-' && !text.AsSpan(text.Length - 4).ContainsAnyExcept("0123456789"))
        {
            text = string.Concat(text.AsSpan(0, text.Length - 2), ":", text.AsSpan(text.Length - 2));
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out timestamp);
    }
}
