using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Vigil.Web.Index;

namespace Vigil.Web.Api;

/// <summary>
/// Liveness for load balancers and scripts: anonymous; "ok" with how many alerts the index holds, or 503 "degraded"
/// naming each stage that has stopped making progress (work waiting and none done for a minute, or its loop ended).
/// </summary>
internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/health", Health).AllowAnonymous().WithTags("Health")
            .Produces<HealthResult>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    public static Results<Ok<HealthResult>, JsonHttpResult<HealthResult>> Health(IAlertStore index, IManagerOperations operations)
    {
        var stages = operations.Stages();
        return stages.Any(s => s.Status != "ok")
            ? TypedResults.Json(new HealthResult("degraded", index.Count(), stages), statusCode: StatusCodes.Status503ServiceUnavailable)
            : TypedResults.Ok(new HealthResult("ok", index.Count(), stages));
    }
}
