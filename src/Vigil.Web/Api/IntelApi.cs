using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Vigil.Web.Security;

namespace Vigil.Web.Api;

/// <summary>The intelligence integrations: quota used and left, queue, cache.</summary>
internal static class IntelApi
{
    public static IEndpointRouteBuilder MapIntelApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/intel", List).RequireAuthorization(Policies.Viewer).WithTags("Intelligence");
        return app;
    }

    public static Ok<IReadOnlyList<IntelStatus>> List(IManagerOperations operations) => TypedResults.Ok(operations.Intel());
}
