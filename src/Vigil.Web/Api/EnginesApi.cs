using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Vigil.Web.Security;

namespace Vigil.Web.Api;

/// <summary>A retro-scan's progress: the version it is for, files done of the baseline's total, detections, and whether it ended.</summary>
internal sealed record RetroScanProgress(string Version, int Done, int Total, int Found, bool Finished);

/// <summary>
/// A detection engine's state: its block's key, <c>yara</c> or <c>clamav</c>, the rules' or database's version, <c>up</c>
/// or why not (<c>down</c>, <c>no_database</c>), the last error, files waiting, scans and verdict-cache hits, and
/// the retro-scan (null before the first); then the host it runs on (<c>000</c> for the host serving the API, else an
/// agent, with its name and when the manager last heard from it, from the agent's own report).
/// </summary>
internal sealed record EngineSummary(
    string Key, string Name, string? Version, string State, string? LastError, int Pending, long Scans, long CacheHits, RetroScanProgress? RetroScan,
    string AgentId = "000", string? AgentName = null, DateTimeOffset? ReportedAt = null);

/// <summary>The detection engines of the host serving the API, then those of its agents (the Intelligence page's engine table).</summary>
internal static class EnginesApi
{
    public static IEndpointRouteBuilder MapEnginesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/engines", List).RequireAuthorization(Policies.Viewer).WithTags("Intelligence");
        return app;
    }

    public static Ok<IReadOnlyList<EngineSummary>> List(IManagerOperations operations) => TypedResults.Ok(operations.Engines());
}
