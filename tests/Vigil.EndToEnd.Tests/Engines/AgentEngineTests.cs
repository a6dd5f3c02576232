using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests.Engines;

/// <summary>
/// `vigil agent` with custom-vigil-yara (real libyara) and custom-vigil-clamav (a real clamd started here) blocks in
/// the agent's own ossec.conf: the agent scans its own files, each detection reaches the manager as an event of that
/// agent (200601, 200701), and the manager's remove-threat runs back on the agent. Rules and signatures live outside
/// the watched tree; the manager runs no engine.
/// </summary>
public sealed class AgentEngineTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    private const string WebshellRule = """
        rule Vigil_E2E_Agent_Webshell
        {
            strings:
                $a = "vigil-e2e-agent-webshell-marker"
            condition:
                $a
        }
        """;

    private const string ManagerResponses = """
        <active-response>
          <disabled>no</disabled>
          <command>remove-threat</command>
          <location>local</location>
          <rules_id>200601,200701</rules_id>
        </active-response>
        """;

    [Fact]
    public async Task Agent_YaraAndClamAvBlocks_ScanItsOwnFilesAndTheManagerRemovesWhatTheyFind()
    {
        using var fixture = new TransportFixture(managerResponses: ManagerResponses);
        using var outside = new TempDirectory("vigil-e2e-agent-engines");
        await using var clamd = await ClamdProcess.StartAsync(withEicar: false);
        var rules = outside.Combine("yara");
        Directory.CreateDirectory(rules);
        File.WriteAllText(Path.Combine(rules, "webshell.yar"), WebshellRule);

        await using var manager = fixture.StartManager();
        await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
        var web = await fixture.EnrollAsync("web-01");
        AddEngines(web, rules, clamd.ConfPath);
        await using var agent = TransportFixture.StartAgent(web);
        await agent.WaitForOutputAsync("vigil: agent ready", s_flow);
        Assert.Contains("vigil: engine custom-vigil-yara: yara version ", agent.Output, StringComparison.Ordinal);
        Assert.Contains("vigil: engine custom-vigil-clamav: clamav", agent.Output, StringComparison.Ordinal);
        await agent.WaitForOutputAsync("Connected to the manager", s_flow);

        var shell = Path.Combine(web.Watched, "shell.php");
        var clamOnly = Path.Combine(web.Watched, "cmd.php");
        var clean = Path.Combine(web.Watched, "clean.txt");
        await File.WriteAllTextAsync(shell, "<?php // vigil-e2e-agent-webshell-" + "marker ?>\n");
        await File.WriteAllTextAsync(clamOnly, "<?php " + ClamdProcess.WebshellMarker + "'c']); ?>\n");
        await File.WriteAllTextAsync(clean, "just text\n");

        await fixture.WaitForAlertsAsync(
            alerts => alerts.Any(a => TransportFixture.RuleId(a) == "200601") && alerts.Any(a => TransportFixture.RuleId(a) == "200701")
                && alerts.Count(a => TransportFixture.RuleId(a) == "100092") >= 2,
            s_flow, manager, agent);
        var alerts = fixture.Alerts();
        var yara = Assert.Single(alerts, a => TransportFixture.RuleId(a) == "200601");
        Assert.Equal("001", yara.GetProperty("agent").GetProperty("id").GetString());
        Assert.Equal("web-01", yara.GetProperty("agent").GetProperty("name").GetString());
        Assert.Equal(shell, yara.GetProperty("data").GetProperty("yara_scanned_file").GetString());
        Assert.Equal("Vigil_E2E_Agent_Webshell", yara.GetProperty("data").GetProperty("yara_rule").GetString());
        Assert.Equal("vigil-engine", yara.GetProperty("location").GetString());
        var clam = Assert.Single(alerts, a => TransportFixture.RuleId(a) == "200701");
        Assert.Equal("001", clam.GetProperty("agent").GetProperty("id").GetString());
        Assert.Equal(clamOnly, clam.GetProperty("data").GetProperty("clamav").GetProperty("file").GetString());
        Assert.Equal(ClamdProcess.WebshellSignature, clam.GetProperty("data").GetProperty("clamav").GetProperty("signature").GetString());
        Assert.DoesNotContain(alerts, a => TransportFixture.RuleId(a) is "200601" or "200701" && a.GetRawText().Contains(clean, StringComparison.Ordinal));

        Assert.False(File.Exists(shell));
        Assert.False(File.Exists(clamOnly));
        Assert.True(File.Exists(clean));
        var quarantine = await TransportFixture.RunToEndAsync(["quarantine", "list", "--json", "--home", web.Home, "--data-dir", web.Data]);
        Assert.Contains(shell, quarantine, StringComparison.Ordinal);
        Assert.Contains(clamOnly, quarantine, StringComparison.Ordinal);

        // The agent's engines are where `vigil status` looks on the agent's data directory.
        var status = await TransportFixture.RunToEndAsync(["status", "--home", web.Home, "--data-dir", web.Data]);
        Assert.StartsWith("FIM: baseline ready, ", status, StringComparison.Ordinal);
        Assert.Contains("custom-vigil-yara", status, StringComparison.Ordinal);
        Assert.Contains("custom-vigil-clamav", status, StringComparison.Ordinal);

        var agentExit = await agent.InterruptAsync(TimeSpan.FromSeconds(30));
        Assert.True(agentExit == 0, $"the agent exited with {agentExit}:\n{agent.Output}");
        var managerExit = await manager.InterruptAsync(TimeSpan.FromSeconds(30));
        Assert.True(managerExit == 0, $"the manager exited with {managerExit}:\n{manager.Output}");
    }

    /// <remarks>
    /// The agent runs in a private mount namespace whose watched directory is a tmpfs of its own (only that tmpfs is
    /// marked for fanotify; the rest of the machine never passes through the guard); the test acts there with nsenter.
    /// </remarks>
    [Fact]
    public async Task Agent_HoldUnknownExec_ItsYaraEngineDeniesTheFirstExecutionOfAMatchingScript()
    {
        using var fixture = new TransportFixture();
        using var outside = new TempDirectory("vigil-e2e-agent-held");
        var rules = outside.Combine("yara");
        Directory.CreateDirectory(rules);
        File.WriteAllText(Path.Combine(rules, "held.yar"), "rule Vigil_E2E_Agent_Held { strings: $a = \"vigil-e2e-held-\" \"marker\" condition: $a }\n".Replace("\" \"", "", StringComparison.Ordinal));
        await using var manager = fixture.StartManager();
        await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
        var web = await fixture.EnrollAsync("web-01");
        var config = Path.Combine(web.Home, "config", "ossec.conf");
        var text = File.ReadAllText(config).Replace("<directories realtime=\"yes\">", "<directories realtime=\"yes\" prevention=\"block\">", StringComparison.Ordinal);
        var at = text.LastIndexOf("</ossec_config>", StringComparison.Ordinal);
        File.WriteAllText(config, text[..at] + $$"""
              <prevention>
                <deadline>5s</deadline>
                <hold_unknown_exec>yes</hold_unknown_exec>
              </prevention>
              <integration>
                <name>custom-vigil-yara</name>
                <options>{"rules": ["{{rules}}"]}</options>
              </integration>
            """ + text[at..]);

        string[] launcher = ["unshare", "-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs -o size=64m vigil-e2e \"$0\" && exec \"$@\"", web.Watched];
        await using var agent = VigilProcess.Start(launcher, ["agent", "--home", web.Home, "--data-dir", web.Data, "--keep-alive", "1"]);
        await agent.WaitForOutputAsync("vigil: agent ready", s_flow);
        Assert.Contains($"vigil: prevention on {web.Watched} (block)", agent.Output, StringComparison.Ordinal);
        await agent.WaitForOutputAsync("Connected to the manager", s_flow);

        var clean = web.Watched + "/clean.sh";
        var held = web.Watched + "/held.sh";
        Assert.Equal(0, (await InNamespaceAsync(agent, "/bin/sh", "-c", $"printf '#!/bin/sh\\nexit 0\\n' > {clean} && chmod +x {clean}")).Exit);
        Assert.Equal(0, (await InNamespaceAsync(agent, "/bin/sh", "-c", $"printf '#!/bin/sh\\n# vigil-e2e-held-%s\\nexit 0\\n' marker > {held} && chmod +x {held}")).Exit);
        Assert.Equal(0, (await InNamespaceAsync(agent, clean)).Exit);

        var refused = await InNamespaceAsync(agent, held);
        Assert.NotEqual(0, refused.Exit);
        Assert.Contains("Operation not permitted", refused.Output, StringComparison.Ordinal);

        await fixture.WaitForAlertsAsync(alerts => alerts.Any(a => TransportFixture.RuleId(a) == "200801"), s_flow, manager, agent);
        var alert = fixture.Alerts().First(a => TransportFixture.RuleId(a) == "200801");
        Assert.Equal("001", alert.GetProperty("agent").GetProperty("id").GetString());
        var prevention = alert.GetProperty("data").GetProperty("vigil").GetProperty("prevention");
        Assert.Equal(held, prevention.GetProperty("file").GetString());
        Assert.Equal("yara", prevention.GetProperty("source").GetString());
        Assert.Equal("Vigil_E2E_Agent_Held", prevention.GetProperty("threat").GetString());
        Assert.DoesNotContain(fixture.Alerts(), a => TransportFixture.RuleId(a) == "200801" && a.GetRawText().Contains(clean, StringComparison.Ordinal));

        var agentExit = await agent.InterruptAsync(TimeSpan.FromSeconds(30));
        Assert.True(agentExit == 0, $"the agent exited with {agentExit}:\n{agent.Output}");
        Assert.Equal(0, await manager.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    private static async Task<(int Exit, string Output)> InNamespaceAsync(VigilProcess vigil, params string[] command)
    {
        var info = new System.Diagnostics.ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-t", vigil.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "-m", "--" }.Concat(command))
        {
            info.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task Agent_EngineBlockWithBadOptions_StopsNamingTheBlockAndNothingIsLeftRunning()
    {
        using var fixture = new TransportFixture();
        await using var manager = fixture.StartManager();
        await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
        var web = await fixture.EnrollAsync("web-01");
        var config = Path.Combine(web.Home, "config", "ossec.conf");
        var text = File.ReadAllText(config);
        var at = text.LastIndexOf("</ossec_config>", StringComparison.Ordinal);
        File.WriteAllText(config, text[..at] + """
              <integration>
                <name>custom-vigil-yara</name>
                <options>{"rules": ["/nonexistent/vigil-rules"], "max_file_size": "big"}</options>
              </integration>
            """ + text[at..]);

        await using var agent = TransportFixture.StartAgent(web);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!agent.HasExited && clock.Elapsed < s_flow)
        {
            await Task.Delay(50);
        }

        Assert.True(agent.HasExited, agent.Output);
        Assert.NotEqual(0, agent.ExitCode);
        Assert.Contains("custom-vigil-yara <options>", agent.Output, StringComparison.Ordinal);
        Assert.Contains("ossec.conf:", agent.Output, StringComparison.Ordinal);
        Assert.Contains("nothing was started", agent.Output, StringComparison.Ordinal);
        Assert.Equal(3, agent.ExitCode); // a configuration error
        Assert.Contains("max_file_size", agent.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("vigil: agent ready", agent.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", agent.Output, StringComparison.Ordinal); // a message, not a stack trace
        Assert.Equal(0, await manager.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    // The engine blocks go into the agent's own ossec.conf, after the fixture wrote it.
    private static void AddEngines(AgentHome agent, string rules, string clamdConf)
    {
        var config = Path.Combine(agent.Home, "config", "ossec.conf");
        var text = File.ReadAllText(config);
        var at = text.LastIndexOf("</ossec_config>", StringComparison.Ordinal);
        File.WriteAllText(config, text[..at] + $$"""
              <integration>
                <name>custom-vigil-yara</name>
                <group>syscheck</group>
                <options>{"rules": ["{{rules}}"], "reload_seconds": 1}</options>
              </integration>
              <integration>
                <name>custom-vigil-clamav</name>
                <group>syscheck</group>
                <options>{"clamd_conf": "{{clamdConf}}", "timeout_seconds": 5}</options>
              </integration>
            """ + text[at..]);
    }
}
