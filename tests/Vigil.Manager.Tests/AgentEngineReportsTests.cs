using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Vigil.Core.Events;
using Vigil.Intel.Engines;
using Vigil.Tests.Common;

namespace Vigil.Manager.Tests;

/// <summary>The agents' engine_status messages, as the manager keeps them for /api/engines.</summary>
public sealed class AgentEngineReportsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));

    private static readonly EngineStatus s_yara = new("yara", new string('a', 64), "up", null, 2, 5, 40, new RetroScanState(new string('a', 64), null, 120, 500, 1, false));
    private static readonly EngineStatus s_clam = new("clamav", null, "down", "clamd does not answer at /run/clamav/clamd.ctl", 3, 0, 9);

    [Fact]
    public void Observe_AgentReport_LatestPerAgentKeptAcrossARestart()
    {
        using var temp = new TempDirectory("vigil-agent-engines");
        var path = AgentEngineReports.PathUnder(temp.Path);
        using (var reports = new AgentEngineReports(path, _time))
        {
            reports.Observe(FromAgent("001", "web-01", EngineStatusReport.Message([("custom-vigil-yara", s_yara with { Version = "old" })])));
            _time.Advance(TimeSpan.FromSeconds(5));
            reports.Observe(FromAgent("001", "web-01", EngineStatusReport.Message([("custom-vigil-yara", s_yara), ("custom-vigil-clamav", s_clam)])));
            reports.Observe(FromAgent("002", "db-01", EngineStatusReport.Message([])));
        }

        using var again = new AgentEngineReports(path, _time);
        var all = again.Snapshot();
        Assert.Equal(["001", "002"], all.Select(a => a.AgentId));
        var web = all[0];
        Assert.Equal(("web-01", _time.GetUtcNow()), (web.AgentName, web.Reported));
        Assert.Equal(
            [
                new ReportedEngine("custom-vigil-yara", "yara", new string('a', 64), "up", null, 2, 40, 5, new ReportedRetroScan(new string('a', 64), 120, 500, 1, false)),
                new ReportedEngine("custom-vigil-clamav", "clamav", null, "down", "clamd does not answer at /run/clamav/clamd.ctl", 3, 9, 0, null),
            ],
            web.Engines);
        Assert.Empty(all[1].Engines);
    }

    [Fact]
    public void Observe_FromTheManagerItselfOrAnotherQueue_Ignored()
    {
        using var temp = new TempDirectory("vigil-agent-engines");
        using var reports = new AgentEngineReports(AgentEngineReports.PathUnder(temp.Path), _time);
        reports.Observe(EngineStatusReport.Message([("custom-vigil-yara", s_yara)]));
        var fromAgent = FromAgent("001", "web-01", EngineStatusReport.Message([("custom-vigil-yara", s_yara)]));
        reports.Observe(fromAgent with { Queue = EventMessage.LocalFileQueue });

        Assert.Empty(reports.Snapshot());
        Assert.False(File.Exists(AgentEngineReports.PathUnder(temp.Path)));
    }

    [Theory]
    [InlineData("{\"type\":\"engine_status\"")]
    [InlineData("{\"type\":\"engine_status\",\"data\":[]}")]
    [InlineData("{\"type\":\"engine_status\",\"data\":{\"engines\":{}}}")]
    [InlineData("{\"type\":\"engine_status\",\"data\":{\"engines\":[{\"key\":\"k\",\"name\":\"yara\"}]}}")]
    [InlineData("{\"type\":\"engine_status\",\"data\":{\"engines\":[1]}}")]
    [InlineData("{\"type\":\"engine_statusx\",\"data\":{\"engines\":[]}}")]
    public void Observe_Malformed_IgnoredAndTheLastGoodReportKept(string message)
    {
        using var temp = new TempDirectory("vigil-agent-engines");
        using var reports = new AgentEngineReports(AgentEngineReports.PathUnder(temp.Path), _time);
        reports.Observe(FromAgent("001", "web-01", EngineStatusReport.Message([("custom-vigil-yara", s_yara)])));
        reports.Observe(new EventMessage(EventMessage.SyscheckQueue, "[001] (web-01) 10.0.0.5->syscheck", message));

        Assert.Equal("custom-vigil-yara", Assert.Single(Assert.Single(reports.Snapshot()).Engines).Key);
    }

    [Fact]
    public void Parse_LongTextsAndManyEngines_Bounded()
    {
        var many = Enumerable.Range(0, 40).Select(i => ($"k{i}", s_yara with { Problem = new string('x', 10_000) }));
        var engines = EngineStatusReport.Parse(EngineStatusReport.Message(many).Message)!;

        Assert.Equal(EngineStatusReport.MaxEngines, engines.Count);
        Assert.All(engines, e => Assert.Equal(EngineStatusReport.MaxText + 1, e.Problem!.Length)); // with "…"
    }

    [Fact]
    public void Parse_Fuzzed_NeverThrowsAndEveryEngineHasItsKeyNameAndState()
    {
        const int Seed = 1616;
        var random = new Random(Seed);
        var corpus = EngineStatusReport.Message([("custom-vigil-yara", s_yara), ("custom-vigil-clamav", s_clam)]).Message;
        var clock = Stopwatch.StartNew();
        var cases = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(2) && cases < 200_000)
        {
            var text = Mutate(random, corpus);
            var engines = EngineStatusReport.Parse(text);
            Assert.True(engines is null || engines.All(e => e.Key.Length > 0 && e.Name.Length > 0 && e.State.Length > 0 && e.Pending >= 0 && e.Scans >= 0),
                $"seed {Seed}, case {cases}: {text}");
            cases++;
        }

        Assert.True(cases > 100, $"only {cases} cases");
    }

    private static string Mutate(Random random, string text)
    {
        var builder = new StringBuilder(text);
        for (var i = random.Next(1, 6); i > 0 && builder.Length > 0; i--)
        {
            var at = random.Next(builder.Length);
            switch (random.Next(4))
            {
                case 0:
                    builder.Remove(at, Math.Min(random.Next(1, 12), builder.Length - at));
                    break;
                case 1:
                    builder.Insert(at, "{}[]\",:-1e9\\u0000null"[random.Next(21)]);
                    break;
                case 2:
                    builder[at] = (char)random.Next(0x20, 0x7f);
                    break;
                default:
                    builder.Insert(at, builder.ToString(at, Math.Min(random.Next(1, 40), builder.Length - at)));
                    break;
            }
        }

        return builder.ToString();
    }

    private static EventMessage FromAgent(string id, string name, EventMessage message) =>
        message with { Location = EventMessage.AgentLocation(new AgentIdentity(id, name, "10.0.0.5"), message.Location) };
}
