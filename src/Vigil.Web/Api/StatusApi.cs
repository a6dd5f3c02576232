using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Vigil.Web.Index;
using Vigil.Web.Security;

namespace Vigil.Web.Api;

/// <summary>
/// A full FIM scan under way: files and bytes so far, rates, and (when the last baseline's size says how many files
/// to expect) the files expected and the seconds left. <c>First</c>: the first scan since start.
/// </summary>
internal sealed record ScanStatus(
    bool First,
    long Files,
    long Bytes,
    double ElapsedSeconds,
    double FilesPerSecond,
    double BytesPerSecond,
    long? ExpectedFiles,
    double? SecondsLeft);

/// <summary>
/// A limit a host ran into: <c>Kind</c> is <c>file_limit</c>, <c>inotify_watches</c> or <c>disk</c>; the message
/// says what is not covered, <c>Setting</c> what to change; <c>Since</c> when it was reported (null: seen live).
/// </summary>
internal sealed record LimitStatus(string Kind, string Message, string Setting, DateTimeOffset? Since);

/// <summary>
/// What one host (agent) covers now. <c>Source</c>: <c>live</c> for the process serving the API (its FIM and data
/// directory read directly), <c>alerts</c> for an agent (what its limit alerts 200200, 200201 and 200404 said, and
/// its scans as its scan_progress messages to this manager said). <c>LastScan</c>: the last full scan that ended.
/// </summary>
internal sealed record HostCoverage(
    string AgentId,
    string AgentName,
    string Source,
    ScanStatus? Scan,
    IReadOnlyList<LimitStatus> Limits,
    long? BaselineEntries = null,
    int? Watches = null,
    long? DiskFreeBytes = null,
    ScanStatus? LastScan = null);

/// <summary>/api/status: every host's coverage, the one serving the API first.</summary>
internal sealed record StatusResult(IReadOnlyList<HostCoverage> Hosts);

/// <summary>The coverage the dashboard's overview banner polls: scan progress and limits reached, per host.</summary>
internal static class StatusApi
{
    // The limit alerts an agent sends (FIM: watches exhausted, file_limit; the host: low disk space, recovered).
    private const string LimitRules = "rule.id: is one of 200200,200201,200404,200405";

    public static IEndpointRouteBuilder MapStatusApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/status", Status).RequireAuthorization(Policies.Viewer).WithTags("Health");
        return app;
    }

    public static Ok<StatusResult> Status(IManagerOperations operations) => TypedResults.Ok(new StatusResult(operations.Coverage()));

    /// <summary>
    /// Each agent's limits as its alerts reported them in the last <paramref name="window"/>: the newest alert of each
    /// kind per agent (a disk limit ends with rule 200405). Agents in <paramref name="except"/> are left out (the
    /// host serving the API reports itself live).
    /// </summary>
    public static IReadOnlyList<HostCoverage> FromAlerts(IAlertStore index, DateTimeOffset now, TimeSpan window, IReadOnlySet<string> except)
    {
        var page = index.Search(AlertQuery.Parse(LimitRules), now - window, now.AddMinutes(1), 1000);
        var hosts = new List<HostCoverage>();
        foreach (var agent in page.Alerts.Where(a => !except.Contains(a.AgentId)).GroupBy(a => a.AgentId).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var limits = new List<LimitStatus>();
            foreach (var kind in agent.GroupBy(a => KindOf(a.RuleId)))
            {
                var newest = kind.First(); // newest first
                if (newest.RuleId == 200405)
                {
                    continue;
                }

                var text = FullLog(newest) ?? newest.Description;
                limits.Add(new LimitStatus(kind.Key, text.StartsWith("vigil: ", StringComparison.Ordinal) ? text["vigil: ".Length..] : text, SettingOf(kind.Key), newest.Timestamp));
            }

            if (limits.Count > 0)
            {
                hosts.Add(new HostCoverage(agent.Key, agent.First().AgentName, "alerts", null, limits));
            }
        }

        return hosts;
    }

    /// <summary>What to change for each kind of limit.</summary>
    public static string SettingOf(string kind) => kind switch
    {
        "file_limit" => "<syscheck><file_limit><entries> in ossec.conf",
        "inotify_watches" => "fs.inotify.max_user_watches on the agent (sysctl -w fs.inotify.max_user_watches=N), or <syscheck><max_realtime_watches> when it is set",
        _ => "<global><min_free_disk> in ossec.conf, or free space on the data directory's file system",
    };

    private static string KindOf(int ruleId) => ruleId switch
    {
        200200 => "inotify_watches",
        200201 => "file_limit",
        _ => "disk",
    };

    private static string? FullLog(IndexedAlert alert)
    {
        using var document = JsonDocument.Parse(alert.Json);
        return document.RootElement.TryGetProperty("full_log", out var log) && log.ValueKind == JsonValueKind.String ? log.GetString() : null;
    }

    /// <summary>A scan's figures from what it has done so far and how many files the last baseline held (0: unknown).</summary>
    public static ScanStatus Scan(bool first, long files, long bytes, TimeSpan elapsed, long expected)
    {
        var seconds = Math.Max(elapsed.TotalSeconds, 0.001);
        var filesPerSecond = files / seconds;
        double? left = expected > 0 && files > 0 && files < expected ? (expected - files) / Math.Max(filesPerSecond, 1) : null;
        return new ScanStatus(first, files, bytes, Math.Round(elapsed.TotalSeconds, 1), Math.Round(filesPerSecond, 1), Math.Round(bytes / seconds, 1),
            expected > 0 ? expected : null, left is { } l ? Math.Round(l, 1) : null);
    }
}
