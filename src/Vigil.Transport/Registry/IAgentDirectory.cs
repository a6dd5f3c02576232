namespace Vigil.Transport.Registry;

/// <summary>
/// The enrolled agents, as enrollment and the agent channel see them: the manager's own SQLite registry by default,
/// or the one several managers share (PostgreSQL). A directory that cannot be reached throws a
/// <see cref="Core.VigilException"/>; the channel then turns the agent away as "unavailable" (it retries).
/// </summary>
internal interface IAgentDirectory
{
    /// <summary>Adds an agent and returns its new id ("001", "002", …); null when an active agent has that name.</summary>
    public string? TryAdd(string name, string? address, string? version, Func<string, string> thumbprintForId);

    public AgentRecord? Find(string id);

    public IReadOnlyList<AgentRecord> List();

    /// <summary>Marks an agent removed; false when there is no such agent (or it was removed already).</summary>
    public bool Remove(string id);

    /// <summary>Records a connection or keep-alive of a known, not removed agent.</summary>
    public void Touch(string id, string status, string? address, string? version, DateTimeOffset when);

    public void SetStatus(string id, string status);
}
