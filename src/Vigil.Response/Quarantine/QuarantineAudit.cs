using System.Text.Json.Nodes;
using Vigil.Response.Execd;

namespace Vigil.Response.Quarantine;

/// <summary>
/// Writes each operator action on the quarantine (restore, delete, purge) to <c>active-responses.log</c> as an
/// AR-style JSON line, <c>&lt;date&gt; active-response/bin/vigil-quarantine: {…"command":"restore"…} &lt;text&gt;</c>,
/// so it reaches the rule pipeline like every other response line (decoder <c>ar_log_json</c>).
/// </summary>
internal static class QuarantineAudit
{
    public const string ProgramName = "active-response/bin/vigil-quarantine";

    private static readonly System.Text.Json.JsonSerializerOptions s_json = ResponseJson.Options;

    public static async ValueTask<string> WriteAsync(ActiveResponseLog log, string command, QuarantineRecord record, string text, CancellationToken cancellationToken) =>
        (await log.WriteAsync([Entry(command, record, text)], cancellationToken))[0];

    /// <summary>The entry (program and message) for one action, to write alone or with other lines.</summary>
    public static (string Argv0, string Message) Entry(string command, QuarantineRecord record, string text)
    {
        var json = new JsonObject
        {
            ["version"] = 1,
            ["origin"] = new JsonObject { ["name"] = "vigil", ["module"] = "quarantine" },
            ["command"] = command,
            ["parameters"] = new JsonObject
            {
                ["program"] = ProgramName,
                ["id"] = record.Id,
                ["path"] = record.OriginalPath,
                ["sha256"] = record.Sha256,
                ["restored_to"] = record.RestoredTo,
                ["rule_id"] = record.RuleId,
                ["alert_id"] = record.AlertId,
            },
        };
        return (ProgramName, json.ToJsonString(s_json) + " " + text);
    }

    /// <summary>Whether a line of the log is this command's entry for the alert <paramref name="alertId"/>.</summary>
    public static bool IsEntryFor(string logLine, string command, string alertId) =>
        logLine.Contains(ProgramName + ": {", StringComparison.Ordinal)
        && logLine.Contains("\"command\":" + ResponseJson.Quote(command), StringComparison.Ordinal)
        && logLine.Contains("\"alert_id\":" + ResponseJson.Quote(alertId), StringComparison.Ordinal);
}
