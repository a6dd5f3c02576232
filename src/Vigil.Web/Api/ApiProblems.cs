using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Vigil.Web.Index;

namespace Vigil.Web.Api;

/// <summary>The problem details the API answers with, so every area words them the same way.</summary>
internal static class ApiProblems
{
    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    /// <summary>A query that does not parse or apply: 400 with what is wrong and where (zero-based <c>position</c>).</summary>
    public static ProblemHttpResult Query(QueryException e) =>
        TypedResults.Problem(detail: e.Message, statusCode: StatusCodes.Status400BadRequest, title: "Malformed query",
            extensions: new Dictionary<string, object?> { ["position"] = e.Position });
}

/// <summary>
/// Times in requests: ISO 8601 (<c>2026-11-28T10:00:00Z</c>) or relative to now (<c>now</c>, <c>now-24h</c>,
/// <c>now-15m</c>, <c>now-7d</c>; units s, m, h, d, w).
/// </summary>
internal static partial class RequestTime
{
    public static readonly TimeSpan DefaultRange = TimeSpan.FromHours(24);

    public static bool TryParse(string? text, DateTimeOffset now, out DateTimeOffset time)
    {
        time = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var relative = Relative().Match(text.Trim());
        if (relative.Success)
        {
            time = now;
            if (relative.Groups[1].Success)
            {
                if (!long.TryParse(relative.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount > 100_000)
                {
                    return false;
                }

                var unit = relative.Groups[3].Value switch
                {
                    "s" => TimeSpan.FromSeconds(1),
                    "m" => TimeSpan.FromMinutes(1),
                    "h" => TimeSpan.FromHours(1),
                    "d" => TimeSpan.FromDays(1),
                    _ => TimeSpan.FromDays(7),
                };
                time = relative.Groups[1].Value == "-" ? now - (unit * amount) : now + (unit * amount);
            }

            return true;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);
    }

    /// <summary>The [from, to) range of a request, with the defaults <c>now-24h</c> .. <c>now</c>; a problem when it is not one.</summary>
    public static bool TryRange(string? from, string? to, TimeProvider clock, out (DateTimeOffset From, DateTimeOffset To) range, out ProblemHttpResult? problem)
    {
        var now = clock.GetUtcNow();
        range = default;
        problem = null;
        var start = now - DefaultRange;
        var end = now;
        if (from is not null && !TryParse(from, now, out start))
        {
            problem = ApiProblems.BadRequest($"'from' is not a time: '{from}' (use ISO 8601 like 2026-11-28T10:00:00Z, or now-24h, now-15m, now-7d, now)");
            return false;
        }

        if (to is not null && !TryParse(to, now, out end))
        {
            problem = ApiProblems.BadRequest($"'to' is not a time: '{to}' (use ISO 8601 like 2026-11-28T10:00:00Z, or now-24h, now-15m, now-7d, now)");
            return false;
        }

        if (end <= start)
        {
            problem = ApiProblems.BadRequest($"'from' ({start:O}) must be before 'to' ({end:O})");
            return false;
        }

        range = (start, end);
        return true;
    }

    [GeneratedRegex(@"^now(?:([+-])(\d{1,6})([smhdw]))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Relative();
}
