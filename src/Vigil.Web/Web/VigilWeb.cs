using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Vigil.Web.Api;
using Vigil.Web.Index;
using Vigil.Web.Security;

namespace Vigil.Web;

/// <summary>What the web side learned at start: the admin password it generated, to print once.</summary>
internal sealed class WebBootstrap
{
    public string? GeneratedAdminPassword { get; set; }
}

/// <summary>
/// The manager's web side: the REST API, its security (one authentication scheme for sessions and tokens, the
/// viewer/admin policies, CSRF, login throttling, security headers), the OpenAPI document and the dashboard.
/// The host registers <see cref="IAlertStore"/>, <see cref="AlertFeed"/>, <see cref="IManagerOperations"/> and
/// (optionally) a <see cref="TimeProvider"/>, calls <see cref="AddVigilWeb"/>, then <see cref="UseVigilWeb"/> on the app.
/// </summary>
internal static class VigilWeb
{
    public static IServiceCollection AddVigilWeb(this IServiceCollection services, WebOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.TryAddSingleton(new LoginLimits());
        services.TryAddSingleton(_ => DashboardFiles.Embedded());
        services.AddSingleton(sp => new UserStore(UserStore.PathUnder(options.DataDirectory), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SessionStore>();

        // The key ring that protects the dashboard's cookies lives with the instance, not in $HOME/.aspnet (which a
        // watched /root reported as a new file, and which two instances would share).
        var keys = Directory.CreateDirectory(Path.Combine(options.DataDirectory, "web", "keys"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keys.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        services.AddDataProtection().SetApplicationName("vigil").PersistKeysToFileSystem(keys);
        services.AddSingleton(sp => new LoginThrottle(sp.GetRequiredService<LoginLimits>()));
        services.AddSingleton<HttpMetrics>();
        services.AddSingleton<WebBootstrap>();
        services.AddSingleton<WebAudit>();
        // A bad parameter throws, so that the exception handler makes it a 400 problem saying which and why.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

        // Every 4xx is a problem document with a detail, whichever part of the stack answered it.
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Detail ??= DefaultDetail(c.HttpContext));
        services.AddExceptionHandler<QueryExceptionHandler>();
        services.AddRouting();
        services.AddAuthentication(VigilAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, VigilAuthenticationHandler>(VigilAuthenticationHandler.SchemeName, null);
        var viewer = new AuthorizationPolicyBuilder(VigilAuthenticationHandler.SchemeName).RequireRole(Roles.Viewer, Roles.Admin).Build();
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Viewer, viewer)
            .AddPolicy(Policies.Admin, p => p.AddAuthenticationSchemes(VigilAuthenticationHandler.SchemeName).RequireRole(Roles.Admin))
            .SetFallbackPolicy(viewer); // an endpoint that forgets its policy is still closed
        services.AddOpenApi();
        return services;
    }

    /// <summary>
    /// The middleware and the endpoints: security headers, problem details, routing, authentication, authorization,
    /// CSRF, then <see cref="MapVigilWeb"/>. Also creates the first admin when there are no users yet.
    /// </summary>
    public static IApplicationBuilder UseVigilWeb(this IApplicationBuilder app)
    {
        var services = app.ApplicationServices;
        var options = services.GetRequiredService<WebOptions>();
        services.GetRequiredService<WebBootstrap>().GeneratedAdminPassword =
            services.GetRequiredService<UserStore>().EnsureAdmin(options.InitialAdminPassword);

        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<CsrfMiddleware>();
        app.UseEndpoints(endpoints => endpoints.MapVigilWeb());
        return app;
    }

    /// <summary>Every endpoint: each API area, the OpenAPI document and the dashboard's files.</summary>
    public static IEndpointRouteBuilder MapVigilWeb(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapAuthApi();
        endpoints.MapAlertsApi();
        endpoints.MapChainApi();
        endpoints.MapQuarantineApi();
        endpoints.MapAgentsApi();
        endpoints.MapRulesApi();
        endpoints.MapIntelApi();
        endpoints.MapHealthApi();
        endpoints.MapStatusApi();
        endpoints.MapDeadLetterApi();
        endpoints.MapMetricsApi();
        endpoints.MapEnginesApi();
        endpoints.MapOpenApi().RequireAuthorization(Policies.Viewer);
        endpoints.MapDashboard();
        return endpoints;
    }

    private static string DefaultDetail(HttpContext context) => context.Response.StatusCode switch
    {
        StatusCodes.Status400BadRequest => $"the request for {context.Request.Path} is malformed",
        StatusCodes.Status401Unauthorized => "sign in first (POST /api/auth/login) or send an API token",
        StatusCodes.Status403Forbidden => "your role does not allow this",
        StatusCodes.Status404NotFound => $"no such page or API: {context.Request.Path}",
        StatusCodes.Status405MethodNotAllowed => $"{context.Request.Method} is not allowed on {context.Request.Path}",
        StatusCodes.Status413PayloadTooLarge => "the request body is too large",
        StatusCodes.Status415UnsupportedMediaType => "send the body as application/json",
        var status => $"the request was refused ({status})",
    };

    private static void MapDashboard(this IEndpointRouteBuilder endpoints)
    {
        string[] methods = [HttpMethods.Get, HttpMethods.Head];
        endpoints.MapMethods("/", methods, (HttpContext context, DashboardFiles files) => Serve(context, files, "index.html"))
            .AllowAnonymous().ExcludeFromDescription();
        endpoints.MapMethods("/login", methods, (HttpContext context, DashboardFiles files) => Serve(context, files, "login.html"))
            .AllowAnonymous().ExcludeFromDescription();
        endpoints.MapMethods("/{**path}", methods, (string path, HttpContext context, DashboardFiles files) => Serve(context, files, path))
            .AllowAnonymous().ExcludeFromDescription();
    }

    private static Results<FileContentHttpResult, StatusCodeHttpResult, ProblemHttpResult> Serve(HttpContext context, DashboardFiles files, string path)
    {
        if (path.StartsWith("api/", StringComparison.Ordinal) || files.Find(path) is not { } file)
        {
            return ApiProblems.NotFound($"no such page or API: /{path}");
        }

        var headers = context.Response.Headers;
        headers.CacheControl = "no-cache";
        headers.ETag = file.ETag;
        if (context.Request.Headers.IfNoneMatch.Contains(file.ETag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.File(file.Content, file.ContentType);
    }
}

/// <summary>A query error that escaped an endpoint is still the client's mistake: 400 with what and where, never a 500.</summary>
internal sealed class QueryExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is BadHttpRequestException bad)
        {
            // A parameter that does not bind (a number too large, an unreadable body): the client's mistake, said exactly.
            httpContext.Response.StatusCode = bad.StatusCode;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                Exception = exception,
                ProblemDetails = new ProblemDetails
                {
                    Status = bad.StatusCode,
                    Title = "Bad request",
                    Detail = Vigil.Core.Events.EventText.Scrub(bad.Message),
                },
            });
        }

        if (exception is not QueryException query)
        {
            return false;
        }

        httpContext.Response.StatusCode = StatusCodes.Status400BadRequest;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Malformed query",
                Detail = query.Message,
                Extensions = { ["position"] = query.Position },
            },
        });
    }
}
