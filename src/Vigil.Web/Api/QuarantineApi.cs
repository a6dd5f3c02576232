using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Vigil.Web.Index;
using Vigil.Web.Security;

namespace Vigil.Web.Api;

/// <summary>Quarantined files: the list, and restore or delete (routed to the agent that holds the file).</summary>
internal static class QuarantineApi
{
    public static IEndpointRouteBuilder MapQuarantineApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/quarantine").WithTags("Quarantine");
        api.MapGet("", List).RequireAuthorization(Policies.Viewer);
        api.MapPost("/{agentId}/{id:long}/restore", RestoreAsync).RequireAuthorization(Policies.Admin);
        api.MapPost("/{agentId}/{id:long}/delete", DeleteAsync).RequireAuthorization(Policies.Admin);
        return app;
    }

    public static Results<Ok<IReadOnlyList<QuarantineItem>>, ProblemHttpResult> List(string? state, IAlertStore index)
    {
        if (state is not (null or QuarantineStates.Quarantined or QuarantineStates.Restored or QuarantineStates.Deleted))
        {
            return ApiProblems.BadRequest($"unknown state '{state}': use quarantined, restored or deleted");
        }

        return TypedResults.Ok<IReadOnlyList<QuarantineItem>>(
            [.. index.Quarantine().Where(e => state is null || e.State == state).Select(QuarantineItem.From)]);
    }

    public static Task<Results<Ok<QuarantineCommandAnswer>, Accepted<QuarantineCommandAnswer>, ProblemHttpResult>> RestoreAsync(
        string agentId, long id, ClaimsPrincipal user, IManagerOperations operations, WebAudit audit, CancellationToken cancellationToken) =>
        RunAsync(agentId, id, QuarantineVerb.Restore, user, operations, audit, cancellationToken);

    public static Task<Results<Ok<QuarantineCommandAnswer>, Accepted<QuarantineCommandAnswer>, ProblemHttpResult>> DeleteAsync(
        string agentId, long id, ClaimsPrincipal user, IManagerOperations operations, WebAudit audit, CancellationToken cancellationToken) =>
        RunAsync(agentId, id, QuarantineVerb.Delete, user, operations, audit, cancellationToken);

    private static async Task<Results<Ok<QuarantineCommandAnswer>, Accepted<QuarantineCommandAnswer>, ProblemHttpResult>> RunAsync(
        string agentId, long id, QuarantineVerb verb, ClaimsPrincipal user, IManagerOperations operations, WebAudit audit, CancellationToken cancellationToken)
    {
        var result = await operations.QuarantineAsync(agentId, id, verb, user.Name(), cancellationToken);
        audit.QuarantineCommand(user.Name(), verb == QuarantineVerb.Restore ? "restore" : "delete", agentId, id, result.Status.ToString(), result.Message);
        return result.Status switch
        {
            QuarantineCommandStatus.Done => TypedResults.Ok(new QuarantineCommandAnswer("done", result.Message)),
            QuarantineCommandStatus.Sent => TypedResults.Accepted((string?)null, new QuarantineCommandAnswer("sent", result.Message)),
            QuarantineCommandStatus.NotFound => ApiProblems.NotFound(result.Message),
            QuarantineCommandStatus.AgentOffline => ApiProblems.Conflict(result.Message),
            _ => ApiProblems.Conflict(result.Message),
        };
    }
}
