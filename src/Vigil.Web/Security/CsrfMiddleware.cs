using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Vigil.Web.Security;

/// <summary>
/// Double-submit CSRF check bound to the session: a state-changing request (POST, PUT, PATCH, DELETE) that
/// authenticated with the session cookie must carry <c>X-CSRF-Token</c> equal to its session's token (which the
/// login answer and the readable <c>vigil_csrf</c> cookie give the page). Bearer tokens are exempt: a browser never
/// adds them by itself. Anonymous endpoints (the login) are exempt too: there is no session to ride on.
/// </summary>
internal sealed class CsrfMiddleware(RequestDelegate next, IProblemDetailsService problems)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (IsStateChanging(context.Request.Method)
            && context.User.IsSession()
            && context.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is null
            && !Matches(context.Request.Headers[VigilAuthenticationHandler.CsrfHeader].ToString(),
                context.User.FindFirst(VigilAuthenticationHandler.CsrfClaim)?.Value))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status403Forbidden,
                    Title = "Missing or wrong CSRF token",
                    Detail = $"a request made with the session cookie must send the header {VigilAuthenticationHandler.CsrfHeader} with the session's CSRF token",
                },
            });
            return;
        }

        await next(context);
    }

    private static bool IsStateChanging(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsDelete(method) || HttpMethods.IsPatch(method);

    private static bool Matches(string sent, string? expected) =>
        expected is { Length: > 0 } && sent.Length > 0
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(sent), Encoding.UTF8.GetBytes(expected));
}
