using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Response.Quarantine;
using Vigil.Transport;
using Vigil.Transport.Registry;
using Vigil.Web;
using Vigil.Web.Api;
using Vigil.Web.Index;

namespace Vigil.Manager;

/// <summary>
/// What the API asks of `vigil run` and `vigil manager`: the agent list (the host itself is 000), quarantine commands
/// (run here for 000, sent over the agent's authenticated channel otherwise), intelligence status, rules, logtest.
/// </summary>
internal sealed class HostOperations(
    OssecConfig config,
    RuleSet rules,
    QuarantineOperations localQuarantine,
    IntelFanOut intel,
    TimeProvider time,
    IAgentDirectory? registry = null,
    Func<ManagerTransport?>? transport = null,
    IAlertStore? index = null) : IManagerOperations
{
    private static readonly string s_version = typeof(HostOperations).Assembly.GetName().Version?.ToString() ?? "";

    /// <summary>The host's stages, for /api/health.</summary>
    public StageMonitor? Stages { get; init; }

    /// <summary>The host's dead-letter store (opened when the host starts).</summary>
    public Func<DeadLetterStore?>? DeadLetterStore { get; init; }

    IReadOnlyList<StageStatus> IManagerOperations.Stages() => Stages?.Snapshot() ?? [];

    /// <summary>What the host itself covers (its own FIM and disk), when it has any.</summary>
    public Func<HostCoverage>? LocalCoverage { get; init; }

    /// <summary>The agents' scans as they reported them to this manager (null: not tracked here).</summary>
    public AgentScans? AgentScans { get; init; }

    /// <summary>
    /// The host's own coverage, live; then each agent's limits as its alerts of the last day reported them, and its
    /// scans as it reported them to this manager.
    /// </summary>
    public IReadOnlyList<HostCoverage> Coverage()
    {
        List<HostCoverage> hosts = LocalCoverage is null ? [] : [LocalCoverage()];
        if (index is not null)
        {
            hosts.AddRange(StatusApi.FromAlerts(index, time.GetUtcNow(), TimeSpan.FromDays(1), hosts.Select(h => h.AgentId).ToHashSet(StringComparer.Ordinal)));
        }

        return AgentScans?.AddTo(hosts) ?? hosts;
    }

    public IReadOnlyList<DeadLetter> DeadLetters(int limit, long? beforeId) => DeadLetterStore?.Invoke()?.List(limit, beforeId) ?? [];

    public DeadLetter? DeadLetter(long id) => DeadLetterStore?.Invoke()?.Find(id);

    public IReadOnlyList<AgentSummary> ListAgents()
    {
        var agents = new List<AgentSummary> { new("000", Environment.MachineName, "127.0.0.1", s_version, AgentStatus.Active, time.GetUtcNow()) };
        if (registry is not null)
        {
            var sessions = transport?.Invoke()?.Sessions;
            foreach (var agent in registry.List())
            {
                var status = agent.IsRemoved ? AgentStatus.Removed
                    : sessions?.Find(agent.Id) is not null ? AgentStatus.Active
                    : agent.Status == AgentStatus.Active ? AgentStatus.Disconnected : agent.Status;
                agents.Add(new AgentSummary(agent.Id, agent.Name, agent.Address, agent.Version, status, agent.LastKeepAlive));
            }
        }

        return agents;
    }

    public bool RemoveAgent(string agentId)
    {
        if (registry is null || agentId == "000" || registry.Find(agentId) is not { IsRemoved: false })
        {
            return false;
        }

        var removed = registry.Remove(agentId);
        transport?.Invoke()?.Sessions.Find(agentId)?.Close(); // its certificate is refused from now on
        return removed;
    }

    public async Task<QuarantineCommandResult> QuarantineAsync(
        string agentId, long quarantineId, QuarantineVerb verb, string requestedBy, CancellationToken cancellationToken)
    {
        var name = verb == QuarantineVerb.Restore ? "restore" : "delete";
        if (agentId == "000")
        {
            var result = await (verb == QuarantineVerb.Restore
                ? localQuarantine.RestoreAsync(quarantineId, cancellationToken)
                : localQuarantine.DeleteAsync(quarantineId, cancellationToken));
            return new QuarantineCommandResult(result.Succeeded ? QuarantineCommandStatus.Done : QuarantineCommandStatus.Failed, result.Message);
        }

        if (registry?.Find(agentId) is not { IsRemoved: false })
        {
            return new QuarantineCommandResult(QuarantineCommandStatus.NotFound, $"there is no agent {agentId}");
        }

        // Only a record the agent reported is acted on, and the agent checks the path and hash before it acts.
        if (index?.QuarantineRecord(agentId, quarantineId) is not { } record)
        {
            return new QuarantineCommandResult(QuarantineCommandStatus.NotFound, $"agent {agentId} reported no quarantine record {quarantineId}");
        }

        if (record.State != QuarantineStates.Quarantined)
        {
            return new QuarantineCommandResult(QuarantineCommandStatus.Failed, $"quarantine record {quarantineId} of agent {agentId} is {record.State}, not in the vault");
        }

        if (transport?.Invoke()?.Sessions.Find(agentId) is not { } session)
        {
            return new QuarantineCommandResult(QuarantineCommandStatus.AgentOffline, $"agent {agentId} is not connected; nothing was sent");
        }

        var json = QuarantineOperations.CommandJson(name, quarantineId, record.Path, record.Sha256, requestedBy);
        return session.TrySendActiveResponse(QuarantineOperations.CommandName, json)
            ? new QuarantineCommandResult(QuarantineCommandStatus.Sent, $"{name} of quarantine record {quarantineId} sent to agent {agentId}")
            : new QuarantineCommandResult(QuarantineCommandStatus.AgentOffline, $"agent {agentId} is disconnecting; nothing was sent");
    }

    public IReadOnlyList<IntelStatus> Intel()
    {
        var statuses = new List<IntelStatus>();
        foreach (var (name, service) in intel.Named)
        {
            var status = service.Status();
            statuses.Add(new IntelStatus(
                name,
                status.Enabled,
                status.MinuteQuota,
                status.MinuteUsed,
                status.DayQuota,
                status.DayUsed,
                status.QueueLength,
                status.CacheHits,
                status.CacheMisses,
                status.WaitingUntil));
        }

        return statuses;
    }

    /// <summary>The agents' engines as they reported them to this manager (null: not tracked here).</summary>
    public AgentEngineReports? AgentEngines { get; init; }

    public IReadOnlyList<Web.Api.EngineSummary> Engines() =>
        [.. intel.Engines.Select(e => (e.Key, Status: e.Engine.Status())).Select(e => new Web.Api.EngineSummary(
            e.Key, e.Status.Name, e.Status.Version, e.Status.State, e.Status.Problem, e.Status.Pending, e.Status.Scans, e.Status.CacheHits,
            e.Status.RetroScan is { } r ? new Web.Api.RetroScanProgress(r.Version, r.Done, r.Total, r.Found, r.IsFinished) : null)),
        .. (AgentEngines?.Snapshot() ?? []).SelectMany(a => a.Engines.Select(e => new Web.Api.EngineSummary(
            e.Key, e.Name, e.Version, e.State, e.Problem, e.Pending, e.Scans, e.CacheHits,
            e.RetroScan is { } r ? new Web.Api.RetroScanProgress(r.Version, r.Done, r.Total, r.Found, r.Finished) : null,
            a.AgentId, a.AgentName, a.Reported)))];

    public IReadOnlyList<RuleSummary> Rules() =>
        [.. rules.Rules.Select(r => new RuleSummary(r.Id, r.Level, r.Description, r.Groups, r.Source.File))];

    public LogtestOutcome Logtest(string line)
    {
        var (alert, trace) = Analysis.Logtest.Evaluate(config, rules, line);
        return new LogtestOutcome(alert, trace);
    }

    /// <summary>The quarantine of the host this process runs on.</summary>
    public static QuarantineOperations LocalQuarantine(string dataDirectory, string activeResponseLog, TimeProvider time) =>
        QuarantineOperations.Local(dataDirectory, activeResponseLog, time);
}
