using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace Vigil.Web;

/// <summary>HTTP requests answered, by status code, for <c>/metrics</c>.</summary>
internal sealed class HttpMetrics
{
    private readonly ConcurrentDictionary<int, long> _byStatus = new();

    public void Count(int statusCode) => _byStatus.AddOrUpdate(statusCode, 1, (_, n) => n + 1);

    public IReadOnlyList<(int Code, long Count)> ByStatusCode() => [.. _byStatus.OrderBy(p => p.Key).Select(p => (p.Key, p.Value))];
}

/// <summary>The first middleware: the security headers on every answer, and the request count once it is done.</summary>
internal sealed class SecurityHeadersMiddleware(RequestDelegate next, HttpMetrics metrics)
{
    // No inline scripts or styles, nothing from elsewhere, never inside a frame.
    public const string ContentSecurityPolicy =
        "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

    public async Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            if (context.Request.IsHttps)
            {
                headers.StrictTransportSecurity = "max-age=31536000";
            }

            return Task.CompletedTask;
        });
        try
        {
            await next(context);
        }
        finally
        {
            metrics.Count(context.Response.StatusCode);
        }
    }
}
