using System.Text.Json;
using Vigil.Core;
using Vigil.Tests.Common;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// The whole chain FIM → verdict → removal on a directory other than /root, with the shipped files and the guide's
/// own: the guide's rules 100200/100201 test /root only, so these runs go through 554 and the binding of the
/// intelligence to what is watched.
/// </summary>
public sealed class WatchedAnywhereTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Run_ShippedConfigWithDirectory_EicarThereIsQuarantinedAnd100092NamesIt()
    {
        using var temp = new TempDirectory("vigil-anywhere");
        var home = TestInstall.WriteShippedHome(temp, "home");
        var data = temp.Combine("data");
        var watched = temp.Combine("srv-www");
        var missing = temp.Combine("not-there");
        Directory.CreateDirectory(watched);
        await using var vigil = VigilProcess.Start(
            ["run", "--home", home, "--data-dir", data, "--directory", watched, "--directory", missing, "--web-port", "0"]);
        await vigil.WaitForOutputAsync("vigil: ready", s_flow);
        Assert.Contains($"vigil: watching {watched} (realtime)", vigil.Output, StringComparison.Ordinal);
        Assert.DoesNotContain($"vigil: watching {missing}", vigil.Output, StringComparison.Ordinal);
        Assert.Contains($"vigil: warning: {missing} does not exist", vigil.Output, StringComparison.Ordinal);
        Assert.Contains("on rules 100200,100201 and 550,554 (a file added or modified in any watched directory)", vigil.Output, StringComparison.Ordinal);

        var eicar = Path.Combine(watched, "eicar.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);
        var alerts = new AlertsFile(Path.Combine(data, "logs", "alerts", "alerts.json"));
        await alerts.WaitForAsync(vigil, s_flow, "554", "200100", "100092", "553");

        Assert.False(File.Exists(eicar));
        Assert.Equal($"active-response/bin/remove-threat removed threat located at {eicar}", alerts.Description("100092"));
        var quarantine = await RunToEndAsync(["quarantine", "list", "--json", "--home", home, "--data-dir", data]);
        Assert.Contains(eicar, quarantine, StringComparison.Ordinal);
        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Run_GuideConfigVerbatim_RemovesEicarThroughTheShippedRemoveThreatSh()
    {
        await using var emulator = await VirusTotalEmulator.StartAsync();
        emulator.Add(EmulatedFile.For(Eicar.Bytes, malicious: 66, undetected: 2));
        using var temp = new TempDirectory("vigil-guide");
        var home = TestInstall.WriteShippedHome(temp, "home");
        var pem = emulator.WriteCertificatePem(temp.Combine("vt.pem"));

        // The guide's blocks as it gives them, placeholder key included. The one line added points the integration at
        // the VirusTotal emulator (these machines reach no internet).
        var config = temp.WriteFile("home/config/ossec.conf", GuideConfig.Replace(
            "<alert_format>json</alert_format>",
            $$"""<alert_format>json</alert_format><options>{"base_url": "{{emulator.BaseUrl}}", "trusted_certificate": "{{pem}}"}</options>""",
            StringComparison.Ordinal));
        var data = temp.Combine("data");
        var watched = temp.Combine("watched");
        Directory.CreateDirectory(watched);

        // The emulator accepts test-key only: a lookup that succeeds proves the environment's key won over the placeholder.
        await using var vigil = VigilProcess.Start(
            ["run", "--config", config, "--home", home, "--data-dir", data, "--directory", watched, "--web-port", "0"],
            new Dictionary<string, string> { ["VIGIL_VT_API_KEY"] = "test-key" });
        await vigil.WaitForOutputAsync("vigil: ready", s_flow);
        Assert.Matches(@"ossec\.conf:\d+: warning: <api_key> holds the placeholder 'YOUR_VIRUS_TOTAL_API_KEY'", vigil.Output);

        var eicar = Path.Combine(watched, "eicar.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);
        var alerts = new AlertsFile(Path.Combine(data, "logs", "alerts", "alerts.json"));
        await alerts.WaitForAsync(vigil, s_flow, "554", "87105", "100092", "553");

        Assert.False(File.Exists(eicar));
        Assert.Equal($"active-response/bin/remove-threat.sh removed threat located at {eicar}", alerts.Description("100092"));
        Assert.All(emulator.Requests, r => Assert.Equal("test-key", r.ApiKey));
        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task ConfigCheck_GuideConfigWithoutItsScript_IsAnErrorAndWithTheShippedScriptPasses()
    {
        using var temp = new TempDirectory("vigil-guide-check");
        var home = TestInstall.WriteShippedHome(temp, "home");
        var missing = temp.Combine("not-there");
        var config = temp.WriteFile("home/config/ossec.conf", GuideConfig.Replace(">/root<", $">{missing}<", StringComparison.Ordinal));

        var environment = new Dictionary<string, string> { ["VIGIL_HOME"] = home };
        var (code, output) = await RunWithCodeAsync(["config", "check", "--config", config], environment);
        Assert.True(code == 0, output);
        Assert.Matches(@"ossec\.conf:\d+: warning: <api_key> holds the placeholder", output);
        Assert.Matches($@"ossec\.conf:\d+: warning: <directories> {System.Text.RegularExpressions.Regex.Escape(missing)} does not exist", output);

        File.Delete(Path.Combine(home, "active-response", "bin", "remove-threat.sh"));
        (code, output) = await RunWithCodeAsync(["config", "check", "--config", config], environment);
        Assert.Equal(1, code);
        Assert.Matches(@"ossec\.conf:\d+: error: <executable> remove-threat\.sh of command remove-threat does not exist", output);
    }

    [Fact]
    public async Task Run_ResponseProgramMissing_RaisesAnAlert()
    {
        using var fixture = new RunFixture(executable: "not-installed.sh");
        await using var vigil = fixture.Start();
        await vigil.WaitForOutputAsync("vigil: ready", s_flow);
        Assert.Contains("not-installed.sh of command remove-threat does not exist", vigil.Output, StringComparison.Ordinal);

        await File.WriteAllBytesAsync(Path.Combine(fixture.Watched, "eicar.com"), Eicar.Bytes);
        await fixture.WaitForRulesAsync(vigil, s_flow, "200100", "200305");
        var failure = fixture.Alerts().First(a => a.GetProperty("rule").GetProperty("id").GetString() == "200305");
        Assert.Contains("active-response/bin/not-installed.sh does not exist", failure.GetProperty("full_log").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Agent_OnADirectoryOtherThanRoot_ManagerWithTheGuidesRulesRemovesEicar()
    {
        using var fixture = new TransportFixture(shippedRules: true);
        await using var manager = fixture.StartManager();
        await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
        Assert.Contains("and 550,554 (a file added or modified in any watched directory)", manager.Output, StringComparison.Ordinal);
        var web1 = await fixture.EnrollAsync("web-01");
        await using var agent = TransportFixture.StartAgent(web1);
        await agent.WaitForOutputAsync("Connected to the manager", s_flow);
        Assert.DoesNotContain("API key", agent.Output, StringComparison.Ordinal);

        var eicar = Path.Combine(web1.Watched, "eicar.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);
        await fixture.WaitForAlertsAsync(
            alerts => new[] { "554", "200100", "100092" }.All(id => alerts.Any(a => TransportFixture.RuleId(a) == id)), s_flow, manager, agent);
        Assert.False(File.Exists(eicar));
        var removal = fixture.Alerts().First(a => TransportFixture.RuleId(a) == "100092");
        Assert.Equal("001", removal.GetProperty("agent").GetProperty("id").GetString());
        Assert.EndsWith($"removed threat located at {eicar}", removal.GetProperty("rule").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    /// <summary>The guide's ossec.conf blocks (§1.1-1.2, §2.2, §2.3) as it gives them.</summary>
    internal const string GuideConfig = """
        <ossec_config>
        <syscheck>
          <disabled>no</disabled>
          <!-- other syscheck configurations -->
          <directories realtime="yes">/root</directories>
        </syscheck>
        </ossec_config>
        <ossec_config>
          <integration>
            <name>virustotal</name>
            <api_key>YOUR_VIRUS_TOTAL_API_KEY</api_key> <!-- Replace with your actual VirusTotal API key -->
            <rule_id>100200,100201</rule_id>
            <alert_format>json</alert_format>
          </integration>
        </ossec_config>
        <ossec_config>
          <command>
            <name>remove-threat</name>
            <executable>remove-threat.sh</executable>
            <timeout_allowed>no</timeout_allowed>
          </command>
          <active-response>
            <disabled>no</disabled>
            <command>remove-threat</command>
            <location>local</location>
            <rules_id>87105</rules_id>
          </active-response>
        </ossec_config>
        """;

    internal static async Task<string> RunToEndAsync(IEnumerable<string> arguments) => (await RunWithCodeAsync(arguments)).Output;

    internal static async Task<(int Code, string Output)> RunWithCodeAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        await using var process = VigilProcess.Start(arguments, environment);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!process.HasExited)
        {
            await Task.Delay(50, cts.Token);
        }

        return (process.ExitCode, process.Output);
    }
}

/// <summary>An alerts.json being written by a running process.</summary>
internal sealed class AlertsFile(string path)
{
    public List<JsonElement> Read()
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var lines = new StreamReader(stream).ReadToEnd().Split('\n');
        return [.. lines[..^1].Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }

    public List<string> RuleIds() => [.. Read().Select(a => a.GetProperty("rule").GetProperty("id").GetString()!)];

    public string? Description(string ruleId) =>
        Read().First(a => a.GetProperty("rule").GetProperty("id").GetString() == ruleId).GetProperty("rule").GetProperty("description").GetString();

    public async Task WaitForAsync(VigilProcess vigil, TimeSpan timeout, params string[] ids)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!ids.All(RuleIds().Contains))
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"rules {string.Join(",", ids)} not all alerted; got {string.Join(",", RuleIds())}. Output:\n{vigil.Output}");
            }

            await Task.Delay(100);
        }
    }
}
