using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Vigil.Web.Security;

/// <summary>
/// The one authentication scheme: an API token (<c>Authorization: Bearer</c>) or a browser session (the
/// <c>vigil_session</c> cookie). Challenges and refusals answer with problem details, never a redirect.
/// </summary>
internal sealed class VigilAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggers,
    UrlEncoder encoder,
    UserStore users,
    SessionStore sessions,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggers, encoder)
{
    public const string SchemeName = "Vigil";
    public const string SessionCookie = "vigil_session";
    public const string CsrfCookie = "vigil_csrf";
    public const string CsrfHeader = "X-CSRF-Token";

    /// <summary>How the request authenticated: <see cref="BySession"/> or <see cref="ByToken"/>.</summary>
    public const string MethodClaim = "vigil:auth";
    public const string SessionClaim = "vigil:session";
    public const string CsrfClaim = "vigil:csrf";
    public const string BySession = "session";
    public const string ByToken = "token";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = users.FindToken(authorization["Bearer ".Length..].Trim());
            return Task.FromResult(token is null
                ? AuthenticateResult.Fail("unknown API token")
                : Success(token.Name, token.Role, [new Claim(MethodClaim, ByToken)]));
        }

        if (Request.Cookies.TryGetValue(SessionCookie, out var id) && !string.IsNullOrEmpty(id) && sessions.Find(id) is { } session)
        {
            return Task.FromResult(Success(session.Username, session.Role,
                [new Claim(MethodClaim, BySession), new Claim(SessionClaim, session.Id), new Claim(CsrfClaim, session.CsrfToken)]));
        }

        return Task.FromResult(AuthenticateResult.NoResult());
    }

    private static AuthenticateResult Success(string name, string role, IEnumerable<Claim> extra)
    {
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, role), .. extra], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized", "sign in or send an API token (Authorization: Bearer)");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", "your role does not allow this");

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}

/// <summary>Who made a request, read from the claims the authentication handler set.</summary>
internal static class PrincipalExtensions
{
    public static string Name(this ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.Name) ?? "";

    public static string Role(this ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.Role) ?? "";

    public static bool IsSession(this ClaimsPrincipal user) => user.FindFirstValue(VigilAuthenticationHandler.MethodClaim) == VigilAuthenticationHandler.BySession;
}
