using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Vigil.Web.Security;

namespace Vigil.Web.Api;

internal sealed record LoginRequest(string? Username, string? Password);

internal sealed record SignedIn(string Username, string Role, string? CsrfToken);

internal sealed record NewUserRequest(string? Username, string? Password, string? Role);

internal sealed record NewTokenRequest(string? Name, string? Role);

internal sealed record NewToken(string Name, string Role, string Token);

/// <summary>Login and logout, who am I, users and API tokens.</summary>
internal static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Authentication");
        api.MapPost("/login", Login).AllowAnonymous();
        api.MapPost("/logout", Logout).RequireAuthorization(Policies.Viewer);
        api.MapGet("/me", Me).RequireAuthorization(Policies.Viewer);
        api.MapGet("/users", ListUsers).RequireAuthorization(Policies.Admin);
        api.MapPost("/users", CreateUser).RequireAuthorization(Policies.Admin);
        api.MapPost("/tokens", CreateToken).RequireAuthorization(Policies.Admin);
        return app;
    }

    public static Results<Ok<SignedIn>, ProblemHttpResult> Login(
        LoginRequest request, HttpContext context, UserStore users, SessionStore sessions, LoginThrottle throttle, WebAudit audit)
    {
        var username = request.Username ?? "";
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (!throttle.TryAcquire(address, username, out var retryAfter))
        {
            audit.SignInThrottled(WebAudit.Printable(username), address);
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem(detail: "too many login attempts; try again later", statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many requests");
        }

        // One answer for an unknown name and a wrong password, so a guesser learns nothing about which names exist.
        if (username.Length == 0 || request.Password is not { Length: > 0 } password || users.Verify(username, password) is not { } user)
        {
            audit.SignInFailed(WebAudit.Printable(username), address);
            return TypedResults.Problem(detail: "invalid user name or password", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }

        audit.SignedIn(user.Username, address);
        if (context.Request.Cookies.TryGetValue(VigilAuthenticationHandler.SessionCookie, out var previous) && !string.IsNullOrEmpty(previous))
        {
            sessions.Remove(previous); // a new sign-in never keeps a session id that existed before it (session fixation)
        }

        var session = sessions.Create(user.Username, user.Role);
        var secure = context.Request.IsHttps;
        context.Response.Cookies.Append(VigilAuthenticationHandler.SessionCookie, session.Id, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = secure,
            Path = "/",
            MaxAge = SessionStore.Lifetime,
        });
        context.Response.Cookies.Append(VigilAuthenticationHandler.CsrfCookie, session.CsrfToken, new CookieOptions
        {
            HttpOnly = false, // the page reads it to send X-CSRF-Token
            SameSite = SameSiteMode.Strict,
            Secure = secure,
            Path = "/",
            MaxAge = SessionStore.Lifetime,
        });
        return TypedResults.Ok(new SignedIn(user.Username, user.Role, session.CsrfToken));
    }

    public static NoContent Logout(HttpContext context, SessionStore sessions, WebAudit audit)
    {
        audit.SignedOut(context.User.Name());
        if (context.User.FindFirstValue(VigilAuthenticationHandler.SessionClaim) is { } id)
        {
            sessions.Remove(id);
        }

        context.Response.Cookies.Delete(VigilAuthenticationHandler.SessionCookie, new CookieOptions { Path = "/" });
        context.Response.Cookies.Delete(VigilAuthenticationHandler.CsrfCookie, new CookieOptions { Path = "/" });
        return TypedResults.NoContent();
    }

    public static Ok<SignedIn> Me(ClaimsPrincipal user) =>
        TypedResults.Ok(new SignedIn(user.Name(), user.Role(), user.FindFirstValue(VigilAuthenticationHandler.CsrfClaim)));

    public static Ok<IReadOnlyList<WebUser>> ListUsers(UserStore users) => TypedResults.Ok(users.Users());

    public static Results<Created<WebUser>, ProblemHttpResult> CreateUser(NewUserRequest request, ClaimsPrincipal user, UserStore users, WebAudit audit)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(request.Username) || request.Username.Length > 64 || request.Username.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            errors.Add("'username' must be 1 to 64 characters without spaces");
        }

        if (request.Password is null || request.Password.Length < UserStore.MinPasswordLength)
        {
            errors.Add($"'password' must be at least {UserStore.MinPasswordLength} characters");
        }

        if (!Roles.IsKnown(request.Role))
        {
            errors.Add("'role' must be 'viewer' or 'admin'");
        }

        if (errors.Count > 0)
        {
            return ApiProblems.BadRequest(string.Join("; ", errors));
        }

        if (!users.TryCreate(request.Username!, request.Password!, request.Role!))
        {
            return ApiProblems.Conflict($"the user '{request.Username}' exists already");
        }

        audit.UserCreated(user.Name(), request.Username!, request.Role!);
        var created = new WebUser(request.Username!, request.Role!);
        return TypedResults.Created($"/api/users/{Uri.EscapeDataString(created.Username)}", created);
    }

    public static Results<Created<NewToken>, ProblemHttpResult> CreateToken(NewTokenRequest request, ClaimsPrincipal user, UserStore users, WebAudit audit)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
        {
            return ApiProblems.BadRequest("'name' must be 1 to 100 characters");
        }

        if (!Roles.IsKnown(request.Role))
        {
            return ApiProblems.BadRequest("'role' must be 'viewer' or 'admin'");
        }

        var token = users.CreateToken(request.Name, request.Role!, user.Name());
        audit.TokenCreated(user.Name(), request.Name, request.Role!);
        return TypedResults.Created((string?)null, new NewToken(request.Name, request.Role!, token));
    }
}
