using System.Diagnostics;
using System.Text.Json;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests.Engines;

/// <summary>
/// `vigil run` with the YARA engine (real libyara): a file already in the baseline, clean under the rules at start, is
/// found by the retro-scan once the rules are edited to match it (hot reload, no restart), raises 200601 and is
/// quarantined by remove-threat; a clean baseline file stays. Rules live outside the watched tree.
/// </summary>
public sealed class RetroScanRunTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(60);

    private const string Unrelated = "rule Vigil_E2E_Unrelated { strings: $a = \"matches-nothing-here\" condition: $a }\n";

    private const string Dormant = """
        rule Vigil_E2E_Dormant
        {
            strings:
                $a = "vigil-e2e-dormant-payload"
            condition:
                $a
        }
        """;

    [Fact]
    public async Task Run_RulesEditedAfterStart_RetroScanQuarantinesBaselineFile()
    {
        using var temp = new TempDirectory("vigil-e2e-retro");
        var rules = temp.Combine("yara");
        Directory.CreateDirectory(rules);
        var rule = Path.Combine(rules, "dormant.yar");
        File.WriteAllText(rule, Unrelated);
        var watched = temp.Combine("watched");
        Directory.CreateDirectory(watched);
        var dormant = Path.Combine(watched, "dormant.php");
        var clean = Path.Combine(watched, "clean.txt");
        File.WriteAllText(dormant, "<?php // vigil-e2e-dormant-" + "payload ?>\n");
        File.WriteAllText(clean, "just text\n");
        var home = WriteHome(temp, watched, rules);
        var data = Path.Combine(home, "data");
        var alertsJson = Path.Combine(data, "logs", "alerts", "alerts.json");

        await using var vigil = VigilProcess.Start(
            ["run", "--config", Path.Combine(home, "config", "ossec.conf"), "--home", home, "--data-dir", data, "--web-port", "0"]);
        await vigil.WaitForOutputAsync("vigil: ready", s_flow);

        File.WriteAllText(rule, Dormant);
        await WaitAsync(vigil, alertsJson, a => a.Any(x => Rule(x) == "100092") && !File.Exists(dormant), "the retro-scan detection and its removal");

        var detection = Assert.Single(Read(alertsJson), a => Rule(a) == "200601");
        var alertData = detection.GetProperty("data");
        Assert.Equal(dormant, alertData.GetProperty("yara_scanned_file").GetString());
        Assert.Equal("Vigil_E2E_Dormant", alertData.GetProperty("yara_rule").GetString());
        Assert.Equal("retro", alertData.GetProperty("engine").GetProperty("scan").GetString());
        Assert.True(File.Exists(clean));

        // `vigil status` from another process: the baseline the walk rested on is ready, and the walk is done.
        var status = await RunToEndAsync(["status", "--home", home, "--data-dir", data]);
        Assert.StartsWith("FIM: baseline ready, ", status, StringComparison.Ordinal);
        Assert.Contains("custom-vigil-yara", status, StringComparison.Ordinal);
        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Run_EngineOptionsThatCannotBeRead_OneMessageAtTheKeysLineAsConfigCheckAndNothingStarted()
    {
        using var temp = new TempDirectory("vigil-e2e-engine-options");
        var watched = temp.Combine("watched");
        Directory.CreateDirectory(watched);
        var home = WriteHome(temp, watched, temp.Combine("yara"));
        var config = Path.Combine(home, "config", "ossec.conf");
        // The bad key on a line of its own, below the <integration> and <options> lines: both say that line.
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"reload_seconds\": 1", "\n      \"reload_seconds\": \"soon\"", StringComparison.Ordinal));
        var line = Array.FindIndex(File.ReadAllLines(config), l => l.Contains("\"reload_seconds\"", StringComparison.Ordinal)) + 1;
        Assert.Equal(10, line);
        var data = Path.Combine(home, "data");

        await using var vigil = VigilProcess.Start(["run", "--config", config, "--home", home, "--data-dir", data, "--web-port", "0"]);
        var clock = Stopwatch.StartNew();
        while (!vigil.HasExited && clock.Elapsed < s_flow)
        {
            await Task.Delay(50);
        }

        Assert.True(vigil.HasExited, vigil.Output);
        Assert.Equal(3, vigil.ExitCode);
        Assert.Contains($"vigil run: {config}:{line}: <integration> custom-vigil-yara <options>: reload_seconds", vigil.Output, StringComparison.Ordinal);
        Assert.Contains("nothing was started", vigil.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", vigil.Output, StringComparison.Ordinal); // a message, not a stack trace
        Assert.DoesNotContain("vigil: ready", vigil.Output, StringComparison.Ordinal);

        var check = await TransportFixture.RunToEndAsync(["config", "check", "--config", config], new Dictionary<string, string> { ["VIGIL_HOME"] = home, ["VIGIL_DATA"] = data });
        Assert.Contains($"{config}:{line}: error: <integration> custom-vigil-yara <options>: reload_seconds", check, StringComparison.Ordinal);
    }

    private static string WriteHome(TempDirectory temp, string watched, string rules)
    {
        temp.WriteFile("home/config/ossec.conf", $$"""
            <ossec_config>
              <syscheck>
                <disabled>no</disabled>
                <directories realtime="yes">{{watched}}</directories>
              </syscheck>
              <integration>
                <name>custom-vigil-yara</name>
                <group>syscheck</group>
                <options>{"rules": ["{{rules}}"], "reload_seconds": 1, "retro_scan_rate": 50}</options>
              </integration>
              <command>
                <name>remove-threat</name>
                <executable>remove-threat</executable>
                <timeout_allowed>no</timeout_allowed>
              </command>
              <active-response>
                <disabled>no</disabled>
                <command>remove-threat</command>
                <location>local</location>
                <rules_id>87105,200100,200601,200701</rules_id>
              </active-response>
              <ruleset>
                <rule_dir>{{RepositoryPaths.Get("ruleset", "rules")}}</rule_dir>
                <rule_include>config/rules/local_rules.xml</rule_include>
              </ruleset>
            </ossec_config>
            """);
        TestInstall.WriteSeedRules(temp, "home", watched);
        TestInstall.WriteRemoveThreatScript(temp, "home");
        return temp.Combine("home");
    }

    private static string Rule(JsonElement alert) => alert.GetProperty("rule").GetProperty("id").GetString()!;

    private static List<JsonElement> Read(string alertsJson)
    {
        if (!File.Exists(alertsJson))
        {
            return [];
        }

        using var stream = new FileStream(alertsJson, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var alerts = new List<JsonElement>();
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            alerts.Add(JsonDocument.Parse(line).RootElement.Clone());
        }

        return alerts;
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

    private static async Task WaitAsync(VigilProcess vigil, string alertsJson, Func<List<JsonElement>, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done(Read(alertsJson)))
        {
            if (clock.Elapsed > s_flow)
            {
                throw new TimeoutException($"no {what} within {s_flow.TotalSeconds} s; rules {string.Join(",", Read(alertsJson).Select(Rule))}. Output:\n{vigil.Output}");
            }

            await Task.Delay(100);
        }
    }
}
