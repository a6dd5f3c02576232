namespace Vigil.Web;

/// <summary>An agent as the API lists it. The manager itself is agent "000".</summary>
internal sealed record AgentSummary(string Id, string Name, string? Address, string? Version, string Status, DateTimeOffset? LastKeepAlive);

/// <summary>What an operator may do to a quarantine record.</summary>
internal enum QuarantineVerb
{
    Restore,
    Delete,
}

/// <summary>How a quarantine command ended.</summary>
internal enum QuarantineCommandStatus
{
    /// <summary>Done here (the file is on the manager's own host); <see cref="QuarantineCommandResult.Message"/> says what happened.</summary>
    Done,

    /// <summary>Sent to the connected agent; its quarantine alert will follow.</summary>
    Sent,

    /// <summary>The agent is not connected; nothing was sent.</summary>
    AgentOffline,

    /// <summary>There is no such agent or record.</summary>
    NotFound,

    /// <summary>The record exists but the action failed or is not allowed in its state; the message says why.</summary>
    Failed,
}

internal sealed record QuarantineCommandResult(QuarantineCommandStatus Status, string Message);

/// <summary>One intelligence integration's state: quota used and left, queue length, cache effectiveness.</summary>
internal sealed record IntelStatus(
    string Name,
    bool Enabled,
    int? MinuteQuota,
    int MinuteUsed,
    int? DayQuota,
    int DayUsed,
    int QueueLength,
    long CacheHits,
    long CacheMisses,
    DateTimeOffset? WaitingUntil)
{
    public double CacheHitRate => CacheHits + CacheMisses == 0 ? 0 : (double)CacheHits / (CacheHits + CacheMisses);
}

/// <summary>A rule as the API lists it.</summary>
internal sealed record RuleSummary(int Id, int Level, string Description, IReadOnlyList<string> Groups, string File);

/// <summary>What `logtest` gives for one input line: the alert as alerts.json would hold it (or null) and a readable trace.</summary>
internal sealed record LogtestOutcome(string? AlertJson, string Trace);

/// <summary>
/// What the API asks of the host it runs in (`vigil run` or `vigil manager`): agents, quarantine commands routed to
/// the agent that holds the file, intelligence status, rules and logtest. The alert index is separate.
/// </summary>
internal interface IManagerOperations
{
    public IReadOnlyList<AgentSummary> ListAgents();

    /// <summary>Removes an agent (its certificate is refused from then on); false when there is no such agent.</summary>
    public bool RemoveAgent(string agentId);

    public Task<QuarantineCommandResult> QuarantineAsync(string agentId, long quarantineId, QuarantineVerb verb, string requestedBy, CancellationToken cancellationToken);

    public IReadOnlyList<IntelStatus> Intel();

    public IReadOnlyList<RuleSummary> Rules();

    public LogtestOutcome Logtest(string line);

    /// <summary>The host's stages and whether each makes progress (/api/health).</summary>
    public IReadOnlyList<Vigil.Core.Diagnostics.StageStatus> Stages() => [];

    /// <summary>What each host covers now: scan progress and limits reached (/api/status, the overview's banner).</summary>
    public IReadOnlyList<Api.HostCoverage> Coverage() => [];

    /// <summary>The newest dead letters first, below <paramref name="beforeId"/> when given.</summary>
    public IReadOnlyList<Vigil.Core.Diagnostics.DeadLetter> DeadLetters(int limit, long? beforeId) => [];

    /// <summary>One dead letter, or null.</summary>
    public Vigil.Core.Diagnostics.DeadLetter? DeadLetter(long id) => null;

    /// <summary>The detection engines of this host (/api/engines).</summary>
    public IReadOnlyList<Api.EngineSummary> Engines() => [];
}
