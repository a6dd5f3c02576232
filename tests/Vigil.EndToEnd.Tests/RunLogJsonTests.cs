using System.Text.Json;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>`vigil run --log-json`: the stages' log entries are JSON, as under `vigil manager` and `vigil agent`; the banner stays text.</summary>
public sealed class RunLogJsonTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_LogJson_LogsEntriesAsJsonAndKeepsTheBanner()
    {
        using var fixture = new RunFixture();

        // An alert in alerts.json that the alert index does not have: the start indexes it and logs so (event 6122).
        var alerts = Path.Combine(fixture.Data, "logs", "alerts");
        Directory.CreateDirectory(alerts);
        await File.WriteAllTextAsync(
            Path.Combine(alerts, "alerts.json"),
            """{"timestamp":"2026-12-07T10:00:00.000+0000","rule":{"level":3,"description":"an earlier alert","id":"550","groups":["syscheck"]},"agent":{"id":"000","name":"host"},"manager":{"name":"host"},"id":"1765100000.1","full_log":"x","location":"syscheck"}""" + "\n");

        await using var vigil = VigilProcess.Start(
            ["run", "--config", Path.Combine(fixture.Home, "config", "ossec.conf"), "--home", fixture.Home, "--data-dir", fixture.Data, "--no-web", "--log-json"]);
        await vigil.WaitForOutputAsync("vigil: ready (Ctrl-C stops)", s_flow);
        await vigil.WaitForOutputAsync("\"EventId\":6122", s_flow);

        var entry = vigil.Output.Split('\n').Single(l => l.Contains("\"EventId\":6122", StringComparison.Ordinal));
        using var json = JsonDocument.Parse(entry);
        Assert.Equal("Vigil.Manager.AlertIndexing", json.RootElement.GetProperty("Category").GetString());
        Assert.Equal(1, json.RootElement.GetProperty("State").GetProperty("Count").GetInt32());
        Assert.Contains("\nvigil: running on ", vigil.Output, StringComparison.Ordinal);

        Assert.Equal(0, await vigil.InterruptAsync(s_flow));
        Assert.Contains("vigil: stopped (", vigil.Output, StringComparison.Ordinal);
    }
}
