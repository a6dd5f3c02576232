using System.Text.Json;
using Vigil.Web.Index;

namespace Vigil.Web.Api;

/// <summary>An alert as the API lists it: the columns the alert table shows and the whole alert document.</summary>
internal sealed record AlertItem(long Seq, string Id, DateTimeOffset Timestamp, AgentRef Agent, RuleRef Rule, string? File, JsonElement Alert)
{
    public static AlertItem From(IndexedAlert alert) => new(
        alert.Seq,
        alert.Id,
        alert.Timestamp,
        new AgentRef(alert.AgentId, alert.AgentName),
        new RuleRef(alert.RuleId, alert.Level, alert.Description, alert.Groups),
        alert.File,
        ApiJson.Parse(alert.Json));
}

internal sealed record AgentRef(string Id, string Name);

internal sealed record RuleRef(int Id, int Level, string Description, IReadOnlyList<string> Groups);

internal sealed record AlertList(long Total, IReadOnlyList<AlertItem> Alerts);

internal sealed record HistogramResult(DateTimeOffset From, double IntervalSeconds, IReadOnlyList<HistogramBucket> Buckets);

internal sealed record ChainStepItem(string Stage, string? CausedBy, AlertItem Alert, ChainEngine? Engine = null);

internal sealed record ChainResult(string AgentId, string File, IReadOnlyList<ChainStepItem> Steps, IReadOnlyList<QuarantineItem> Quarantine);

internal sealed record QuarantineItem(
    string AgentId,
    string AgentName,
    long Id,
    string Path,
    string? Sha256,
    string State,
    string? AlertId,
    string? RuleId,
    DateTimeOffset QuarantinedAt,
    DateTimeOffset UpdatedAt,
    string? RestoredTo)
{
    public static QuarantineItem From(QuarantineEntry entry) => new(entry.AgentId, entry.AgentName, entry.QuarantineId, entry.Path,
        entry.Sha256, entry.State, entry.AlertId, entry.RuleId, entry.QuarantinedAt, entry.UpdatedAt, entry.RestoredTo);
}

/// <summary>How a quarantine command went: <c>done</c> here or <c>sent</c> to the agent, with what happened.</summary>
internal sealed record QuarantineCommandAnswer(string Status, string Message);

internal sealed record LogtestRequest(string? Event);

internal sealed record LogtestResult(JsonElement? Alert, string Trace);

/// <summary>"ok", or "degraded" with the stages that stopped making progress (then the answer is 503).</summary>
internal sealed record HealthResult(string Status, long Alerts, IReadOnlyList<Vigil.Core.Diagnostics.StageStatus> Stages);

internal static class ApiJson
{
    /// <summary>A stored alert document as a JSON value (documents in the index were valid JSON when added).</summary>
    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
