using Microsoft.Extensions.Time.Testing;
using Vigil.Core.Events;
using Vigil.Fim.Events;
using Vigil.Web.Api;

namespace Vigil.Manager.Tests;

/// <summary>The agents' scan_progress messages, as the manager's /api/status shows them.</summary>
public sealed class AgentScansTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 4, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Observe_ProgressThenDone_RunningThenLastScan_AddedToTheAgentsLimits()
    {
        var scans = new AgentScans(_time);
        scans.Observe(FromAgent(FimMessages.ScanProgress(1000, 4096000, TimeSpan.FromSeconds(2), 0, first: true, done: false)));

        var running = Assert.Single(scans.AddTo([]));
        Assert.Equal(("001", "web-01", 1000L, true), (running.AgentId, running.AgentName, running.Scan!.Files, running.Scan.First));
        Assert.Equal(500, running.Scan.FilesPerSecond);
        Assert.Null(running.LastScan);

        scans.Observe(FromAgent(FimMessages.ScanProgress(2500, 10240000, TimeSpan.FromSeconds(5), 0, first: true, done: true)));
        var limits = new HostCoverage("001", "web-01", "alerts", null, [new LimitStatus("disk", "low", "x", null)]);
        var done = Assert.Single(scans.AddTo([limits]));
        Assert.Null(done.Scan);
        Assert.Equal(2500, done.LastScan!.Files);
        Assert.Equal("disk", Assert.Single(done.Limits).Kind);
    }

    [Fact]
    public void Observe_AgentSilentPastStale_NoLongerShownRunning()
    {
        var scans = new AgentScans(_time);
        scans.Observe(FromAgent(FimMessages.ScanProgress(10, 40960, TimeSpan.FromSeconds(1), 100, first: false, done: false)));
        _time.Advance(AgentScans.Stale + TimeSpan.FromSeconds(1));

        Assert.Null(Assert.Single(scans.AddTo([])).Scan);
    }

    [Theory]
    [InlineData("{\"type\":\"scan_progress\",\"data\":{\"files\":\"many\"}}")]
    [InlineData("{\"type\":\"scan_progress\",\"data\":[1,2]}")]
    [InlineData("{\"type\":\"scan_progress\"")]
    [InlineData("{\"type\":\"scan_progress\",\"data\":{\"files\":1,\"bytes\":1,\"elapsed_ms\":1e400,\"expected\":0,\"first\":true,\"done\":false}}")]
    public void Observe_MalformedProgress_Ignored(string message)
    {
        var scans = new AgentScans(_time);
        scans.Observe(new EventMessage(EventMessage.SyscheckQueue, "[001] (web-01) 10.0.0.5->syscheck", message));

        Assert.Empty(scans.AddTo([]));
    }

    [Fact]
    public void Observe_FromTheManagerItself_Ignored()
    {
        var scans = new AgentScans(_time);
        scans.Observe(FimMessages.ScanProgress(10, 10, TimeSpan.FromSeconds(1), 0, first: true, done: false));

        Assert.Empty(scans.AddTo([]));
    }

    private static EventMessage FromAgent(EventMessage message) =>
        message with { Location = EventMessage.AgentLocation(new AgentIdentity("001", "web-01", "10.0.0.5"), message.Location) };
}
