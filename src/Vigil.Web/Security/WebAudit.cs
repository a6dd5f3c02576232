using Microsoft.Extensions.Logging;

namespace Vigil.Web.Security;

/// <summary>
/// The web side's audit trail: who signed in or failed to, who was throttled, and who changed users, tokens, agents
/// or quarantined files. Stable ids 7000-7099. Never logs a password or a token.
/// </summary>
internal sealed partial class WebAudit(ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger("Vigil.Manager.Web");

    /// <summary>A name a client sent, made safe for a log line: no control characters (forged lines), at most 64 characters.</summary>
    public static string Printable(string text)
    {
        var clean = string.Concat(text.Take(64).Select(c => char.IsControl(c) ? '?' : c));
        return text.Length > 64 ? clean + "…" : clean;
    }

    [LoggerMessage(7000, LogLevel.Information, "User {Username} signed in from {Address}")]
    public partial void SignedIn(string username, string address);

    [LoggerMessage(7001, LogLevel.Warning, "Failed sign-in as {Username} from {Address}")]
    public partial void SignInFailed(string username, string address);

    [LoggerMessage(7002, LogLevel.Warning, "Sign-in as {Username} from {Address} refused: too many attempts")]
    public partial void SignInThrottled(string username, string address);

    [LoggerMessage(7003, LogLevel.Information, "User {Username} signed out")]
    public partial void SignedOut(string username);

    [LoggerMessage(7010, LogLevel.Information, "{Actor} created the user {Username} ({Role})")]
    public partial void UserCreated(string actor, string username, string role);

    [LoggerMessage(7011, LogLevel.Information, "{Actor} created the API token {Name} ({Role})")]
    public partial void TokenCreated(string actor, string name, string role);

    [LoggerMessage(7020, LogLevel.Information, "{Actor} removed the agent {AgentId}: {Outcome}")]
    public partial void AgentRemoved(string actor, string agentId, string outcome);

    [LoggerMessage(7021, LogLevel.Information, "{Actor} asked to {Verb} quarantine record {AgentId}/{QuarantineId}: {Status} {Message}")]
    public partial void QuarantineCommand(string actor, string verb, string agentId, long quarantineId, string status, string message);
}
