using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Vigil.Manager.Index;

namespace Vigil.Manager.Api;

/// <summary>Liveness for load balancers and scripts: anonymous, says nothing but that it runs and how many alerts it holds.</summary>
internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/health", Health).AllowAnonymous().WithTags("Health");
        return app;
    }

    public static Ok<HealthResult> Health(AlertIndex index) => TypedResults.Ok(new HealthResult("ok", index.Count()));
}
