using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Vigil.Web.Security;

namespace Vigil.Web.Api;

/// <summary>The agents: the list, and removal (its certificate is refused from then on).</summary>
internal static class AgentsApi
{
    public static IEndpointRouteBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/agents").WithTags("Agents");
        api.MapGet("", List).RequireAuthorization(Policies.Viewer);
        api.MapDelete("/{id}", Remove).RequireAuthorization(Policies.Admin);
        return app;
    }

    public static Ok<IReadOnlyList<AgentSummary>> List(IManagerOperations operations) => TypedResults.Ok(operations.ListAgents());

    public static Results<NoContent, ProblemHttpResult> Remove(string id, ClaimsPrincipal user, IManagerOperations operations, WebAudit audit)
    {
        var removed = operations.RemoveAgent(id);
        audit.AgentRemoved(user.Name(), id, removed ? "removed" : "no such agent");
        return removed ? TypedResults.NoContent() : ApiProblems.NotFound($"no agent with id '{id}'");
    }
}
