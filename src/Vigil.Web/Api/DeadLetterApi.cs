using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Vigil.Core.Diagnostics;
using Vigil.Web.Security;

namespace Vigil.Web.Api;

/// <summary>Events a stage could not handle (rule 200500): the newest first, and one with its event and error.</summary>
internal static class DeadLetterApi
{
    public static IEndpointRouteBuilder MapDeadLetterApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/deadletters").RequireAuthorization(Policies.Viewer).WithTags("Dead letters");
        api.MapGet("", List);
        api.MapGet("/{id}", Get);
        return app;
    }

    public static Results<Ok<IReadOnlyList<DeadLetter>>, ProblemHttpResult> List(int? limit, long? before, IManagerOperations operations) =>
        limit is < 1 or > 1000
            ? ApiProblems.BadRequest("'limit' must be between 1 and 1000")
            : TypedResults.Ok(operations.DeadLetters(limit ?? 100, before));

    public static Results<Ok<DeadLetter>, ProblemHttpResult> Get(string id, IManagerOperations operations) =>
        long.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
            && operations.DeadLetter(number) is { } letter
            ? TypedResults.Ok(letter)
            : ApiProblems.NotFound($"no dead letter with id '{id}'");
}
