using System.Text.Encodings.Web;
using System.Text.Json;
using Vigil.Analysis.Decoding;
using Vigil.Analysis.Rules;

namespace Vigil.Analysis.Alerts;

/// <summary>One alert: the event, the rule it ended on, and what the writer gives it (id, time).</summary>
internal sealed class Alert
{
    public required AnalysisEvent Event { get; init; }
    public required Rule Rule { get; init; }
    public required string Description { get; init; }
    public required long FiredTimes { get; init; }
    public required bool IsMail { get; init; }
    public IReadOnlyList<AnalysisEvent>? PreviousEvents { get; init; }

    /// <summary><c>&lt;epoch&gt;.&lt;offset&gt;</c> (spec §6.2), set when the alert is written.</summary>
    public string Id { get; set; } = "";

    public DateTimeOffset Timestamp => Event.ReceivedAt;
}

/// <summary>What every alert of one manager carries: its host name, and the cluster when one is configured.</summary>
internal sealed record AlertContext(string ManagerName, string? ClusterName = null, string? ClusterNode = null)
{
    /// <summary><see cref="ManagerName"/> as alerts.json prints it, encoded once.</summary>
    public JsonEncodedText ManagerNameJson { get; } =
        JsonEncodedText.Encode(ManagerName, JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
}
