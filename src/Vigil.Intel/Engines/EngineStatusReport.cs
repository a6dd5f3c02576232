using System.Text;
using System.Text.Json;
using Vigil.Core.Events;

namespace Vigil.Intel.Engines;

/// <summary>One engine as an agent reported it: its block's key and what <see cref="EngineStatus"/> says.</summary>
internal sealed record ReportedEngine(string Key, string Name, string? Version, string State, string? Problem, int Pending, long Scans, long CacheHits, ReportedRetroScan? RetroScan);

/// <summary>A reported retro-scan: the version it is for, files done of the total, detections, whether it ended.</summary>
internal sealed record ReportedRetroScan(string Version, int Done, int Total, int Found, bool Finished);

/// <summary>
/// How an agent tells its manager the state of its engines: a control message on the syscheck queue (as Wazuh's
/// scan_start and Vigil's scan_progress, which the FIM decoder claims and never alerts),
/// <c>{"type":"engine_status","data":{"engines":[{key, name, version, state, problem, pending, scans, cache_hits,
/// retro_scan: {version, done, total, found, finished} | null}]}}</c>. It travels with the agent's events, in order,
/// through its durable queue, so the last one the manager reads is the latest. The manager reads at most
/// <see cref="MaxEngines"/> engines and <see cref="MaxText"/> characters of each text: the rest is cut (marked "…").
/// </summary>
internal static class EngineStatusReport
{
    public const string Type = "engine_status";
    public const int MaxEngines = 16;
    public const int MaxText = 512;
    private const string Prefix = "{\"type\":\"" + Type + "\"";

    /// <summary>The message for <paramref name="engines"/> (location syscheck: the manager puts the agent's identity on it).</summary>
    public static EventMessage Message(IEnumerable<(string Key, EngineStatus Status)> engines)
    {
        ArgumentNullException.ThrowIfNull(engines);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", Type);
            w.WriteStartObject("data");
            w.WriteStartArray("engines");
            foreach (var (key, status) in engines)
            {
                w.WriteStartObject();
                w.WriteString("key", key);
                w.WriteString("name", status.Name);
                w.WriteString("version", status.Version);
                w.WriteString("state", status.State);
                w.WriteString("problem", status.Problem);
                w.WriteNumber("pending", status.Pending);
                w.WriteNumber("scans", status.Scans);
                w.WriteNumber("cache_hits", status.CacheHits);
                if (status.RetroScan is { } retro)
                {
                    w.WriteStartObject("retro_scan");
                    w.WriteString("version", retro.Version);
                    w.WriteNumber("done", retro.Done);
                    w.WriteNumber("total", retro.Total);
                    w.WriteNumber("found", retro.Found);
                    w.WriteBoolean("finished", retro.IsFinished);
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteNull("retro_scan");
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return new EventMessage(EventMessage.SyscheckQueue, "syscheck", Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    /// <summary>Whether <paramref name="message"/> may be an engine_status message (a cheap look before parsing).</summary>
    public static bool IsReport(EventMessage message) =>
        message is not null && message.Queue == EventMessage.SyscheckQueue && message.Message.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The engines of an engine_status message's JSON, or null when it is not one this reader understands.</summary>
    public static IReadOnlyList<ReportedEngine>? Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || Text(root, "type") != Type
                || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object
                || !data.TryGetProperty("engines", out var engines) || engines.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var result = new List<ReportedEngine>();
            foreach (var e in engines.EnumerateArray().Take(MaxEngines))
            {
                if (e.ValueKind != JsonValueKind.Object || Text(e, "key") is not { Length: > 0 } key || Text(e, "name") is not { Length: > 0 } name
                    || Text(e, "state") is not { Length: > 0 } state)
                {
                    return null;
                }

                ReportedRetroScan? retro = null;
                if (e.TryGetProperty("retro_scan", out var r) && r.ValueKind == JsonValueKind.Object)
                {
                    retro = new ReportedRetroScan(
                        Text(r, "version") ?? "", (int)Number(r, "done"), (int)Number(r, "total"), (int)Number(r, "found"),
                        r.TryGetProperty("finished", out var finished) && finished.ValueKind == JsonValueKind.True);
                }

                result.Add(new ReportedEngine(
                    key, name, Text(e, "version"), state, Text(e, "problem"), (int)Number(e, "pending"), Number(e, "scans"), Number(e, "cache_hits"), retro));
            }

            return result;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? EventText.Truncate(EventText.Scrub(value.GetString()!), MaxText)
            : null;

    // A count that is not a whole number the size of an int (or missing) counts as 0.
    private static long Number(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= 0 ? number : 0;
}
