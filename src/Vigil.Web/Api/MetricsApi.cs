using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Vigil.Web.Index;
using Vigil.Web.Security;

namespace Vigil.Web.Api;

/// <summary>Prometheus metrics in the text exposition format (0.0.4), written by hand: a few families, no library needed.</summary>
internal static class MetricsApi
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", Metrics).RequireAuthorization(Policies.Viewer).WithTags("Health")
            .Produces(StatusCodes.Status200OK, contentType: "text/plain");
        return app;
    }

    public static ContentHttpResult Metrics(IAlertStore index, IManagerOperations operations, HttpMetrics http)
    {
        var text = new StringBuilder();
        Family(text, "vigil_alerts_indexed_total", "counter", "Alerts in the alert index.");
        Sample(text, "vigil_alerts_indexed_total", [], index.Count());

        Family(text, "vigil_agents", "gauge", "Agents by status.");
        foreach (var group in operations.ListAgents().GroupBy(a => a.Status).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            Sample(text, "vigil_agents", [("status", group.Key)], group.Count());
        }

        var intel = operations.Intel();
        Family(text, "vigil_intel_queue_length", "gauge", "Files waiting for an intelligence lookup.");
        foreach (var i in intel)
        {
            Sample(text, "vigil_intel_queue_length", [("integration", i.Name)], i.QueueLength);
        }

        Family(text, "vigil_intel_quota_used", "gauge", "Lookups used in the current quota window.");
        foreach (var i in intel)
        {
            Sample(text, "vigil_intel_quota_used", [("integration", i.Name), ("window", "minute")], i.MinuteUsed);
            Sample(text, "vigil_intel_quota_used", [("integration", i.Name), ("window", "day")], i.DayUsed);
        }

        Family(text, "vigil_intel_cache_hits_total", "counter", "Intelligence lookups answered from the cache.");
        foreach (var i in intel)
        {
            Sample(text, "vigil_intel_cache_hits_total", [("integration", i.Name)], i.CacheHits);
        }

        Family(text, "vigil_intel_cache_misses_total", "counter", "Intelligence lookups the cache could not answer.");
        foreach (var i in intel)
        {
            Sample(text, "vigil_intel_cache_misses_total", [("integration", i.Name)], i.CacheMisses);
        }

        Family(text, "vigil_http_requests_total", "counter", "HTTP requests answered, by status code.");
        foreach (var (code, count) in http.ByStatusCode())
        {
            Sample(text, "vigil_http_requests_total", [("code", code.ToString(CultureInfo.InvariantCulture))], count);
        }

        return TypedResults.Text(text.ToString(), ContentType);
    }

    private static void Family(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder text, string name, (string Name, string Value)[] labels, long value)
    {
        text.Append(name);
        if (labels.Length > 0)
        {
            text.Append('{').AppendJoin(',', labels.Select(l => $"{l.Name}=\"{Escape(l.Value)}\"")).Append('}');
        }

        text.Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
