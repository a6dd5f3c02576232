using System.Collections.Concurrent;

namespace Vigil.Web.Tests;

/// <summary>The host's side of the API, recording what was asked of it.</summary>
internal sealed class FakeManagerOperations : IManagerOperations
{
    public ConcurrentQueue<string> Calls { get; } = new();

    public List<AgentSummary> Agents { get; } =
    [
        new("000", "vigil-manager", "127.0.0.1", "4.14.0", "active", null),
        new("001", "web01", "10.0.0.11", "4.14.0", "active", TestAlerts.Now.AddSeconds(-10)),
        new("002", "db01", "10.0.0.12", "4.14.0", "disconnected", TestAlerts.Now.AddHours(-2)),
    ];

    /// <summary>What a quarantine command answers, by agent id.</summary>
    public Dictionary<string, QuarantineCommandResult> QuarantineResults { get; } = new()
    {
        ["000"] = new(QuarantineCommandStatus.Done, "restored to /root/eicar.com"),
        ["001"] = new(QuarantineCommandStatus.Sent, "sent to web01"),
        ["002"] = new(QuarantineCommandStatus.AgentOffline, "db01 is not connected"),
        ["003"] = new(QuarantineCommandStatus.Failed, "the record is deleted already"),
    };

    /// <summary>What /api/health reports of the host's stages.</summary>
    public List<Vigil.Core.Diagnostics.StageStatus> StageStatuses { get; } = [];

    public IReadOnlyList<Vigil.Core.Diagnostics.StageStatus> Stages() => StageStatuses;

    /// <summary>What /api/status reports of each host's coverage.</summary>
    public List<Vigil.Web.Api.HostCoverage> Hosts { get; } = [];

    public IReadOnlyList<Vigil.Web.Api.HostCoverage> Coverage() => Hosts;

    public IReadOnlyList<AgentSummary> ListAgents() => Agents;

    public bool RemoveAgent(string agentId)
    {
        Calls.Enqueue($"remove {agentId}");
        return Agents.RemoveAll(a => a.Id == agentId) > 0;
    }

    public Task<QuarantineCommandResult> QuarantineAsync(string agentId, long quarantineId, QuarantineVerb verb, string requestedBy, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"{verb} {agentId}/{quarantineId} by {requestedBy}");
        return Task.FromResult(QuarantineResults.GetValueOrDefault(agentId) ?? new(QuarantineCommandStatus.NotFound, $"no quarantine record {agentId}/{quarantineId}"));
    }

    public IReadOnlyList<IntelStatus> Intel() =>
        [new("virustotal", true, 4, 3, 500, 42, 5, 30, 10, TestAlerts.Now.AddSeconds(20))];

    public IReadOnlyList<RuleSummary> Rules() =>
    [
        new(554, 5, "File added to the system.", ["ossec", "syscheck"], "0015-ossec_rules.xml"),
        new(87105, 12, "VirusTotal: Alert - $(virustotal.source.file) - $(virustotal.positives) engines detected this file", ["virustotal"], "0490-virustotal_rules.xml"),
        new(100092, 12, "Active response: remove-threat removed the threat", ["active_response"], "local_rules.xml"),
    ];

    public LogtestOutcome Logtest(string line)
    {
        Calls.Enqueue($"logtest {line}");
        return line.Contains("syscheck", StringComparison.Ordinal)
            ? new LogtestOutcome(TestAlerts.Fim("1.1", TestAlerts.Now, 554, 5, "File added to the system.", "/root/x", "added", TestAlerts.Web01), "rule 554 matched")
            : new LogtestOutcome(null, "no rule matched");
    }
}
