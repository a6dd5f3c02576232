using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Vigil.Web.Index;
using Vigil.Web.Security;

namespace Vigil.Web.Api;

/// <summary>The detection chain of one file on one agent: FIM, verdict, response, quarantine.</summary>
internal static class ChainApi
{
    public static IEndpointRouteBuilder MapChainApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/chain", Chain).RequireAuthorization(Policies.Viewer).WithTags("Alerts");
        return app;
    }

    public static Results<Ok<ChainResult>, ProblemHttpResult> Chain(string? agent, string? file, IAlertStore index)
    {
        if (string.IsNullOrEmpty(agent) || string.IsNullOrEmpty(file))
        {
            return ApiProblems.BadRequest("both 'agent' (the agent id) and 'file' (the file path) are required");
        }

        var chain = index.Chain(agent, file);
        return TypedResults.Ok(new ChainResult(
            chain.AgentId,
            chain.File,
            [.. chain.Steps.Select(s => new ChainStepItem(StageName(s.Stage), s.CausedBy, AlertItem.From(s.Alert), s.Engine))],
            [.. chain.Quarantine.Select(QuarantineItem.From)]));
    }

    public static string StageName(ChainStage stage) => stage switch
    {
        ChainStage.Fim => "fim",
        ChainStage.Verdict => "verdict",
        ChainStage.Response => "response",
        ChainStage.Quarantine => "quarantine",
        ChainStage.Prevention => "prevention",
        _ => "other",
    };
}
