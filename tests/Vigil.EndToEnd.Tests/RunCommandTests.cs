using System.Diagnostics;
using System.Security.Cryptography;
using Vigil.Core;
using Vigil.Tests.Common;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.EndToEnd.Tests;

/// <summary>`vigil run` as a real process: the seed's whole flow on real files, inotify, SQLite and child processes.</summary>
public sealed class RunCommandTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_NoApiKey_EicarIsFlaggedByLocalIntelligenceAndQuarantined()
    {
        using var fixture = new RunFixture();
        await using var vigil = fixture.Start();
        await vigil.WaitForOutputAsync("vigil: ready", s_flow);
        Assert.Contains("VirusTotal off (no API key", vigil.Output, StringComparison.Ordinal);

        var eicar = Path.Combine(fixture.Watched, "eicar.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);
        await fixture.WaitForRulesAsync(vigil, s_flow, "100201", "200100", "100092", "553");

        var ids = fixture.RuleIds();
        Assert.True(ids.IndexOf("100201") < ids.IndexOf("200100"), string.Join(",", ids));
        Assert.True(ids.IndexOf("200100") < ids.IndexOf("100092"), string.Join(",", ids));
        Assert.False(File.Exists(eicar));
        Assert.Equal(1, ids.Count(id => id == "200100"));

        var quarantine = await RunToEndAsync(["quarantine", "list", "--json", "--home", fixture.Home, "--data-dir", fixture.Data]);
        Assert.Contains(eicar, quarantine, StringComparison.Ordinal);
        Assert.Contains(Eicar.Sha256, quarantine, StringComparison.Ordinal);

        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("vigil: stopped", vigil.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_VirusTotalEmulator_SeedFlowInOrderWithOneLookup()
    {
        await using var emulator = await VirusTotalEmulator.StartAsync();
        emulator.Add(EmulatedFile.For(Eicar.Bytes, malicious: 66, undetected: 2));
        using var temp = new TempDirectory();
        var pem = emulator.WriteCertificatePem(temp.Combine("vt.pem"));
        using var fixture = new RunFixture("test-key", emulator.BaseUrl, pem);
        await using var vigil = fixture.Start();
        await vigil.WaitForOutputAsync("vigil: ready", s_flow);

        var eicar = Path.Combine(fixture.Watched, "eicar.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);
        await fixture.WaitForRulesAsync(vigil, s_flow, "100201", "87105", "100092", "553");

        var ids = fixture.RuleIds();
        Assert.True(ids.IndexOf("100201") < ids.IndexOf("87105"), string.Join(",", ids));
        Assert.True(ids.IndexOf("87105") < ids.IndexOf("100092"), string.Join(",", ids));
        Assert.False(File.Exists(eicar));

        var alerts = fixture.Alerts();
        var vt = alerts.First(a => a.GetProperty("rule").GetProperty("id").GetString() == "87105");
        Assert.Equal($"VirusTotal: Alert - {eicar} - 66 engines detected this file", vt.GetProperty("rule").GetProperty("description").GetString());
        var removed = alerts.First(a => a.GetProperty("rule").GetProperty("id").GetString() == "100092");
        Assert.Equal($"active-response/bin/remove-threat removed threat located at {eicar}", removed.GetProperty("rule").GetProperty("description").GetString());

        // The removal's 553 is not looked up again (the integration selects 100200/100201 only), and the
        // local list did not pre-empt VirusTotal's verdict for a file VirusTotal knows.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(1, emulator.LookupCount);
        Assert.Equal(Eicar.Sha256, Convert.ToHexStringLower(SHA256.HashData(Eicar.Bytes)));
        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Run_SeedRemoveThreatScript_RemovesEicarAnd100092Fires()
    {
        await using var emulator = await VirusTotalEmulator.StartAsync();
        emulator.Add(EmulatedFile.For(Eicar.Bytes, malicious: 66, undetected: 2));
        using var temp = new TempDirectory();
        var pem = emulator.WriteCertificatePem(temp.Combine("vt.pem"));
        using var fixture = new RunFixture("test-key", emulator.BaseUrl, pem, executable: "remove-threat.sh");
        await using var vigil = fixture.Start();
        await vigil.WaitForOutputAsync("vigil: ready", s_flow);

        var eicar = Path.Combine(fixture.Watched, "eicar.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);
        await fixture.WaitForRulesAsync(vigil, s_flow, "100201", "87105", "100092", "553");

        Assert.False(File.Exists(eicar));
        var removed = fixture.Alerts().First(a => a.GetProperty("rule").GetProperty("id").GetString() == "100092");
        Assert.Equal($"active-response/bin/remove-threat.sh removed threat located at {eicar}", removed.GetProperty("rule").GetProperty("description").GetString());
        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Run_DataDirectoryInsideTheWatchedTree_NeverAlertsOnItsOwnFiles()
    {
        // The quarantine vault, the databases and alerts.json live in a watched tree here: moving EICAR into the vault
        // must not be seen as a new file (which would be flagged and "removed" again), nor any of Vigil's writes.
        using var fixture = new RunFixture();
        var data = Path.Combine(fixture.Watched, "vigil-state");
        await using var vigil = VigilProcess.Start(
            ["run", "--config", Path.Combine(fixture.Home, "config", "ossec.conf"), "--home", fixture.Home, "--data-dir", data, "--web-port", "0"]);
        await vigil.WaitForOutputAsync("vigil: ready", s_flow);
        var eicar = Path.Combine(fixture.Watched, "eicar.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);

        var alertsJson = Path.Combine(data, "logs", "alerts", "alerts.json");
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(alertsJson) && File.ReadAllText(alertsJson).Contains("\"100092\"", StringComparison.Ordinal)))
        {
            Assert.True(clock.Elapsed < s_flow, vigil.Output);
            await Task.Delay(100);
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        var alerts = File.ReadAllLines(alertsJson).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        var fimPaths = alerts.Where(a => a.TryGetProperty("syscheck", out _)).Select(a => a.GetProperty("syscheck").GetProperty("path").GetString()).Distinct();
        Assert.Equal([eicar], fimPaths);
        Assert.Equal(1, alerts.Count(a => a.GetProperty("rule").GetProperty("id").GetString() == "100092"));
        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Run_KilledMidQueue_EveryPendingLookupCompletesOnceAfterRestart()
    {
        await using var emulator = await VirusTotalEmulator.StartAsync();
        emulator.Latency = TimeSpan.FromMilliseconds(700);
        var contents = Enumerable.Range(0, 6).Select(i => System.Text.Encoding.ASCII.GetBytes($"harmless file {i}\n")).ToList();
        contents.ForEach(c => emulator.Add(EmulatedFile.For(c, malicious: 0, undetected: 60)));
        using var temp = new TempDirectory();
        var pem = emulator.WriteCertificatePem(temp.Combine("vt.pem"));
        using var fixture = new RunFixture("test-key", emulator.BaseUrl, pem);
        var files = contents.Select((_, i) => Path.Combine(fixture.Watched, $"file-{i}.txt")).ToList();

        await using (var first = fixture.Start())
        {
            await first.WaitForOutputAsync("vigil: ready", s_flow);
            for (var i = 0; i < files.Count; i++)
            {
                await File.WriteAllBytesAsync(files[i], contents[i]);
            }

            // Every file is alerted (100201) and queued for lookup; kill while the lookups are under way.
            await WaitAsync(() => fixture.RuleIds().Count(id => id == "100201") == files.Count, first);
            await WaitAsync(() => fixture.RuleIds().Contains("87104"), first);
            await first.KillAsync();
        }

        var verdictsAtKill = fixture.RuleIds().Count(id => id == "87104");
        Assert.InRange(verdictsAtKill, 1, files.Count - 1);

        await using var second = fixture.Start();
        await second.WaitForOutputAsync("vigil: ready", s_flow);
        await WaitAsync(() => fixture.RuleIds().Count(id => id == "87104") >= files.Count, second);
        await Task.Delay(TimeSpan.FromSeconds(2));

        var verdictFiles = fixture.Alerts()
            .Where(a => a.GetProperty("rule").GetProperty("id").GetString() == "87104")
            .Select(a => a.GetProperty("data").GetProperty("virustotal").GetProperty("source").GetProperty("file").GetString())
            .Order().ToList();
        Assert.Equal(files.Order(), verdictFiles); // each file exactly once
        Assert.Equal(files.Count, fixture.RuleIds().Count(id => id == "100201")); // nothing re-detected after the restart
        Assert.InRange(emulator.LookupCount, files.Count, files.Count + 1); // at most the request cut by the kill again
        Assert.Equal(0, await second.InterruptAsync(TimeSpan.FromSeconds(30)));

        static async Task WaitAsync(Func<bool> condition, VigilProcess vigil)
        {
            var clock = Stopwatch.StartNew();
            while (!condition())
            {
                Assert.True(clock.Elapsed < s_flow, vigil.Output);
                await Task.Delay(50);
            }
        }
    }

    [Fact]
    public async Task Run_BrokenConfiguration_NamesFileAndLineAndStartsNothing()
    {
        using var fixture = new RunFixture();
        var config = Path.Combine(fixture.Home, "config", "ossec.conf");
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace("<disabled>no</disabled>", "<disabled>maybe</disabled>", StringComparison.Ordinal));
        await using var vigil = fixture.Start();
        using var cts = new CancellationTokenSource(s_flow);
        while (!vigil.HasExited)
        {
            await Task.Delay(50, cts.Token);
        }

        Assert.Equal(3, vigil.ExitCode);
        Assert.Matches(@"ossec\.conf:\d+: error: .*disabled", vigil.Output);
        Assert.Contains("nothing was started", vigil.Output, StringComparison.Ordinal);
    }

    private static async Task<string> RunToEndAsync(string[] arguments)
    {
        await using var process = VigilProcess.Start(arguments);
        var stopwatch = Stopwatch.StartNew();
        while (!process.HasExited && stopwatch.Elapsed < s_flow)
        {
            await Task.Delay(50);
        }

        Assert.True(process.HasExited, process.Output);
        return process.Output;
    }
}
