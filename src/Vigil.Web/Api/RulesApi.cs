using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Vigil.Web.Security;

namespace Vigil.Web.Api;

/// <summary>The loaded rules, and logtest: what one event line would raise.</summary>
internal static class RulesApi
{
    public const int MaxEventLength = 64 * 1024;

    public static IEndpointRouteBuilder MapRulesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Rules").RequireAuthorization(Policies.Viewer);
        api.MapGet("/rules", List);
        api.MapPost("/logtest", Logtest);
        return app;
    }

    /// <summary>All rules, or those whose id is <paramref name="q"/> or whose description contains it.</summary>
    public static Ok<IReadOnlyList<RuleSummary>> List(string? q, IManagerOperations operations)
    {
        var rules = operations.Rules();
        if (string.IsNullOrWhiteSpace(q))
        {
            return TypedResults.Ok(rules);
        }

        var text = q.Trim();
        return TypedResults.Ok<IReadOnlyList<RuleSummary>>([.. rules.Where(r =>
            r.Id.ToString(CultureInfo.InvariantCulture) == text || r.Description.Contains(text, StringComparison.OrdinalIgnoreCase))]);
    }

    public static Results<Ok<LogtestResult>, ProblemHttpResult> Logtest(LogtestRequest request, IManagerOperations operations)
    {
        if (string.IsNullOrEmpty(request.Event))
        {
            return ApiProblems.BadRequest("'event' is required: one event line, like 8:syscheck:{...}");
        }

        if (request.Event.Length > MaxEventLength)
        {
            return ApiProblems.BadRequest($"'event' is longer than {MaxEventLength} characters");
        }

        var outcome = operations.Logtest(request.Event);
        return TypedResults.Ok(new LogtestResult(outcome.AlertJson is { } json ? ApiJson.Parse(json) : null, outcome.Trace));
    }
}
