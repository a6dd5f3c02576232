using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Vigil.Web.Index;
using Vigil.Web.Security;

namespace Vigil.Web.Api;

/// <summary>Alert search, one alert, the histogram, top-N aggregations and the live stream.</summary>
internal static class AlertsApi
{
    public const int MaxLimit = 1000;

    /// <summary>A comment line this often keeps proxies and browsers from closing an idle stream.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    public static IEndpointRouteBuilder MapAlertsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/alerts").RequireAuthorization(Policies.Viewer).WithTags("Alerts");
        api.MapGet("", Search);
        api.MapGet("/histogram", Histogram);
        api.MapGet("/top/{field}", Top);
        api.MapGet("/stream", StreamAsync).Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
        api.MapGet("/{id}", Get).Produces(StatusCodes.Status200OK, contentType: "application/json");
        return app;
    }

    public static Results<Ok<AlertList>, ProblemHttpResult> Search(
        string? q, string? from, string? to, int? limit, int? offset, IAlertStore index, TimeProvider time)
    {
        if (limit is < 1 or > MaxLimit)
        {
            return ApiProblems.BadRequest($"'limit' must be between 1 and {MaxLimit}");
        }

        if (offset is < 0)
        {
            return ApiProblems.BadRequest("'offset' must not be negative");
        }

        if (!RequestTime.TryRange(from, to, time, out var range, out var problem))
        {
            return problem!;
        }

        try
        {
            var page = index.Search(AlertQuery.Parse(q), range.From, range.To, limit ?? 100, offset ?? 0);
            return TypedResults.Ok(new AlertList(page.Total, [.. page.Alerts.Select(AlertItem.From)]));
        }
        catch (QueryException e)
        {
            return ApiProblems.Query(e);
        }
    }

    /// <summary>The alert document exactly as alerts.json holds it.</summary>
    public static Results<ContentHttpResult, ProblemHttpResult> Get(string id, IAlertStore index) =>
        index.Get(id) is { } alert
            ? TypedResults.Text(alert.Json, "application/json", Encoding.UTF8)
            : ApiProblems.NotFound($"no alert with id '{id}'");

    public static Results<Ok<HistogramResult>, ProblemHttpResult> Histogram(
        string? q, string? from, string? to, int? buckets, IAlertStore index, TimeProvider time)
    {
        if (buckets is < 1 or > 1000)
        {
            return ApiProblems.BadRequest("'buckets' must be between 1 and 1000");
        }

        if (!RequestTime.TryRange(from, to, time, out var range, out var problem))
        {
            return problem!;
        }

        try
        {
            var histogram = index.Histogram(AlertQuery.Parse(q), range.From, range.To, buckets ?? 60);
            return TypedResults.Ok(new HistogramResult(histogram.From, histogram.Interval.TotalSeconds, histogram.Buckets));
        }
        catch (QueryException e)
        {
            return ApiProblems.Query(e);
        }
    }

    public static Results<Ok<IReadOnlyList<TermCount>>, ProblemHttpResult> Top(
        string field, string? q, string? from, string? to, int? size, IAlertStore index, TimeProvider time)
    {
        TopField? by = field switch
        {
            "rules" => TopField.Rule,
            "agents" => TopField.Agent,
            "files" => TopField.File,
            _ => null,
        };
        if (by is null)
        {
            return ApiProblems.BadRequest($"cannot aggregate by '{field}': use rules, agents or files");
        }

        if (size is < 1 or > 1000)
        {
            return ApiProblems.BadRequest("'size' must be between 1 and 1000");
        }

        if (!RequestTime.TryRange(from, to, time, out var range, out var problem))
        {
            return problem!;
        }

        try
        {
            return TypedResults.Ok(index.Top(by.Value, AlertQuery.Parse(q), range.From, range.To, size ?? 10));
        }
        catch (QueryException e)
        {
            return ApiProblems.Query(e);
        }
    }

    /// <summary>
    /// New alerts as server-sent events (<c>event: alert</c>, <c>data: AlertItem</c>), each flushed as it comes, with a
    /// comment every 15 s. With <c>q</c>, an alert is sent when the index finds it for that query.
    /// </summary>
    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> StreamAsync(
        string? q, HttpContext context, AlertFeed feed, IAlertStore index, TimeProvider time,
        IHostApplicationLifetime lifetime, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        AlertQuery query;
        try
        {
            query = AlertQuery.Parse(q);
            var now = time.GetUtcNow();
            index.Search(query, now, now, 0); // compiles the query: a field that cannot apply is a 400 now, not a silent stream
        }
        catch (QueryException e)
        {
            return ApiProblems.Query(e);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var cancellationToken = stop.Token;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var body = context.Response.Body;

        var alerts = feed.SubscribeAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        var next = alerts.MoveNextAsync().AsTask(); // subscribes before the first byte goes out
        try
        {
            await WriteAsync(body, ": connected\n\n", cancellationToken);
            while (true)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var keepAlive = Task.Delay(KeepAliveInterval, time, wait.Token);
                if (await Task.WhenAny(next, keepAlive) == keepAlive)
                {
                    await WriteAsync(body, ": keep-alive\n\n", cancellationToken);
                    continue;
                }

                await wait.CancelAsync();
                if (!await next)
                {
                    break;
                }

                var alert = alerts.Current;
                if (query is AlertQuery.MatchAll || Matches(index, query, alert))
                {
                    var data = JsonSerializer.Serialize(AlertItem.From(alert), json.Value.SerializerOptions);
                    await WriteAsync(body, $"event: alert\nid: {alert.Seq}\ndata: {data}\n\n", cancellationToken);
                }

                next = alerts.MoveNextAsync().AsTask();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // the client went away or the manager is stopping
        }
        finally
        {
            // The enumerator may be waiting for an alert: end the wait before disposing of it.
            await stop.CancelAsync();
            try
            {
                await next;
            }
            catch (OperationCanceledException)
            {
            }

            await alerts.DisposeAsync();
        }

        return TypedResults.Empty;
    }

    private static bool Matches(IAlertStore index, AlertQuery query, IndexedAlert alert)
    {
        try
        {
            var page = index.Search(query, alert.Timestamp, alert.Timestamp.AddMilliseconds(1), MaxLimit);
            return page.Alerts.Any(a => a.Seq == alert.Seq);
        }
        catch (QueryException)
        {
            return false;
        }
    }

    private static async Task WriteAsync(Stream body, string text, CancellationToken cancellationToken)
    {
        await body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await body.FlushAsync(cancellationToken);
    }
}
