namespace Vigil.Intel.VirusTotal;

/// <summary>The result of one HTTP exchange with VirusTotal, as a value: expected failures are not exceptions.</summary>
internal abstract record LookupOutcome
{
    private LookupOutcome()
    {
    }

    /// <summary>200 (found) or 404 NotFoundError (not found): a verdict to cache and report.</summary>
    public sealed record Verdict(FileVerdict Value) : LookupOutcome;

    /// <summary>429 QuotaExceededError / TooManyRequestsError.</summary>
    public sealed record QuotaExceeded(QuotaKind Kind, TimeSpan? RetryAfter) : LookupOutcome;

    /// <summary>401 (wrong, missing or inactive key) or 403 (no privilege): stop and tell the operator.</summary>
    public sealed record Rejected(int HttpStatus, string Code) : LookupOutcome;

    /// <summary>5xx or a network failure (status 0): retry with backoff.</summary>
    public sealed record Transient(int HttpStatus, string Detail) : LookupOutcome;

    /// <summary>No answer within the timeout: retry with backoff; Wazuh's error 408.</summary>
    public sealed record TimedOut(string Detail) : LookupOutcome;

    /// <summary>A body that is not the JSON VirusTotal sends, or another 4xx: retried a few times, then given up.</summary>
    public sealed record Malformed(int HttpStatus, string Detail) : LookupOutcome;
}

internal enum QuotaKind
{
    /// <summary>The message does not say which quota; the caller decides from how long the refusals last.</summary>
    Unknown,
    Minute,
    Daily,
}
