using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Vigil.Core;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests.Engines;

/// <summary>
/// `vigil run` with the YARA engine (real libyara) and the ClamAV engine (a real clamd started here): detections
/// raise 200601/200701 and remove-threat quarantines the file; rules reload on change and a broken edit keeps the
/// old rules; clamd stopped mid-run is an alert and its files wait until it is back; an oversized file is not
/// scanned, and said so; a symlink is never scanned through. Rules and signatures live outside the watched tree.
/// </summary>
public sealed class EngineRunTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(60);

    private static string EicarRule => $$"""
        rule Vigil_E2E_Eicar
        {
            strings:
                $a = "{{Encoding.ASCII.GetString(Eicar.Bytes)[28..62]}}"
            condition:
                $a
        }
        """;

    private const string WebshellRule = """
        rule Vigil_E2E_Webshell : webshell
        {
            strings:
                $eval = /eval\s*\(\s*base64_decode\s*\(/
                $post = "$_POST["
            condition:
                all of them
        }
        """;

    private static readonly string s_webshell = "<?php " + "ev" + "al(base64_decode($_POST['c'])); ?>\n";

    [Fact]
    public async Task Run_YaraAndClamAv_DetectQuarantineReloadAndSurviveClamdOutage()
    {
        using var temp = new TempDirectory("vigil-e2e-engines");
        await using var clamd = await ClamdProcess.StartAsync(withEicar: false);
        var rules = temp.Combine("yara");
        Directory.CreateDirectory(rules);
        File.WriteAllText(Path.Combine(rules, "eicar.yar"), EicarRule);
        File.WriteAllText(Path.Combine(rules, "webshell.yar"), WebshellRule);
        var watched = temp.Combine("watched");
        Directory.CreateDirectory(watched);
        var outside = temp.Combine("outside");
        Directory.CreateDirectory(outside);
        var home = WriteHome(temp, watched, rules, clamd.ConfPath);
        var data = Path.Combine(home, "data");
        var alertsJson = Path.Combine(data, "logs", "alerts", "alerts.json");

        await using var vigil = VigilProcess.Start(
            ["run", "--config", Path.Combine(home, "config", "ossec.conf"), "--home", home, "--data-dir", data, "--web-port", "0"]);
        await vigil.WaitForOutputAsync("vigil: ready", s_flow);
        Assert.Contains("vigil: engine custom-vigil-yara: yara", vigil.Output, StringComparison.Ordinal);
        Assert.Contains("vigil: engine custom-vigil-clamav: clamav", vigil.Output, StringComparison.Ordinal);

        // A symlink to a webshell outside the tree: FIM may report it, no engine reads through it.
        var target = Path.Combine(outside, "target.php");
        File.WriteAllText(target, s_webshell);
        File.CreateSymbolicLink(Path.Combine(watched, "link.php"), target);

        // YARA: EICAR and a webshell; ClamAV: its .ndb string; a clean file; an oversized webshell.
        var eicar = Path.Combine(watched, "eicar.com");
        var shell = Path.Combine(watched, "shell.php");
        var clamOnly = Path.Combine(watched, "cmd.php");
        var clean = Path.Combine(watched, "clean.txt");
        var big = Path.Combine(watched, "big.php");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);
        await File.WriteAllTextAsync(shell, s_webshell);
        await File.WriteAllTextAsync(clamOnly, "<?php " + ClamdProcess.WebshellMarker + "'c']); ?>\n");
        await File.WriteAllTextAsync(clean, "just text\n");
        await File.WriteAllTextAsync(big, s_webshell + new string('#', 8192));

        await WaitAsync(vigil, alertsJson, a => Detections(a, "200601").Count >= 2 && Detections(a, "200701").Count >= 1 && Count(a, "200603") >= 1
            && Count(a, "100092") >= 3, "YARA and ClamAV detections and their removals");
        var alerts = Read(alertsJson);
        Assert.Equal([eicar, shell], Detections(alerts, "200601").Select(a => a.GetProperty("data").GetProperty("yara_scanned_file").GetString()).Order(StringComparer.Ordinal));
        Assert.Contains(alerts, a => Rule(a) == "200601" && Data(a, "yara_rule") == "Vigil_E2E_Eicar");
        var webshell = alerts.Single(a => Rule(a) == "200601" && Data(a, "yara_rule") == "Vigil_E2E_Webshell");
        var engine = webshell.GetProperty("data").GetProperty("engine");
        Assert.Equal("yara", engine.GetProperty("name").GetString());
        Assert.Equal(64, engine.GetProperty("version").GetString()!.Length);
        Assert.Equal("Vigil_E2E_Webshell", engine.GetProperty("rule").GetString());
        var clam = Assert.Single(Detections(alerts, "200701"));
        Assert.Equal(ClamdProcess.WebshellSignature, clam.GetProperty("data").GetProperty("clamav").GetProperty("signature").GetString());
        Assert.Equal(clamOnly, clam.GetProperty("data").GetProperty("clamav").GetProperty("file").GetString());
        Assert.StartsWith("ClamAV 1.", clam.GetProperty("data").GetProperty("engine").GetProperty("version").GetString(), StringComparison.Ordinal);
        var skipped = alerts.Single(a => Rule(a) == "200603");
        Assert.Equal(big, skipped.GetProperty("data").GetProperty("vigil").GetProperty("source").GetProperty("file").GetString());
        Assert.Contains("over the YARA size limit", skipped.GetProperty("data").GetProperty("engine").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(eicar));
        Assert.False(File.Exists(shell));
        Assert.False(File.Exists(clamOnly));
        Assert.True(File.Exists(clean));
        Assert.True(File.Exists(big));
        Assert.True(File.Exists(target));
        Assert.DoesNotContain(alerts, a => Rule(a) is "200601" or "200701" && a.GetRawText().Contains("link.php", StringComparison.Ordinal));
        Assert.DoesNotContain(alerts, a => Rule(a) is "200601" or "200701" && a.GetRawText().Contains(clean, StringComparison.Ordinal));

        // Rule edit: a new rule is in force without a restart.
        File.WriteAllText(Path.Combine(rules, "added.yar"), "rule Vigil_E2E_Added { strings: $a = \"vigil-e2e-added-\" \"marker\" condition: $a }\n".Replace("\" \"", "", StringComparison.Ordinal));
        await Task.Delay(100);
        var added = Path.Combine(watched, "added.txt");
        await PollUntilAsync(vigil, alertsJson, async () => await File.WriteAllTextAsync(added, "x vigil-e2e-added-" + "marker " + Guid.NewGuid() + "\n"),
            a => a.Any(x => Rule(x) == "200601" && Data(x, "yara_rule") == "Vigil_E2E_Added"), "the edited rules");

        // A broken edit: reported with file:line, and the rules in force stay.
        var broken = Path.Combine(rules, "broken.yar");
        File.WriteAllText(broken, "rule Broken\n{\n    condition:\n        $nothing\n}\n");
        await WaitAsync(vigil, alertsJson, a => Count(a, "200604") >= 1, "the reload error");
        var reloadError = Read(alertsJson).Single(a => Rule(a) == "200604").GetProperty("data").GetProperty("engine").GetProperty("detail").GetString();
        Assert.Contains(broken + ":", reloadError, StringComparison.Ordinal);
        Assert.Contains("previous rules stay in force", reloadError, StringComparison.Ordinal);
        var again = Path.Combine(watched, "again.php");
        await File.WriteAllTextAsync(again, s_webshell);
        await WaitAsync(vigil, alertsJson, a => a.Any(x => Rule(x) == "200601" && Data(x, "yara_scanned_file") == again), "a detection with the old rules");

        // clamd stopped mid-run: one alert; the file written meanwhile is scanned once clamd is back.
        await clamd.StopAsync();
        var whileDown = Path.Combine(watched, "down.php");
        await File.WriteAllTextAsync(whileDown, "<?php " + ClamdProcess.WebshellMarker + "'d']); ?>\n");
        await WaitAsync(vigil, alertsJson, a => Count(a, "200702") >= 1, "the clamd-down alert");
        Assert.DoesNotContain(Read(alertsJson), a => Rule(a) == "200701" && a.GetRawText().Contains(whileDown, StringComparison.Ordinal));
        await clamd.StartAsync();
        await WaitAsync(vigil, alertsJson, a => a.Any(x => Rule(x) == "200701" && x.GetRawText().Contains(whileDown, StringComparison.Ordinal)), "the detection after clamd came back");
        await WaitAsync(vigil, alertsJson, _ => !File.Exists(whileDown), "the quarantine after clamd came back");
        Assert.Equal(1, Count(Read(alertsJson), "200702"));

        var quarantine = await RunToEndAsync(["quarantine", "list", "--json", "--home", home, "--data-dir", data]);
        Assert.Contains(eicar, quarantine, StringComparison.Ordinal);
        Assert.Contains(shell, quarantine, StringComparison.Ordinal);
        Assert.Contains(clamOnly, quarantine, StringComparison.Ordinal);
        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    private static string WriteHome(TempDirectory temp, string watched, string rules, string clamdConf)
    {
        temp.WriteFile("home/config/ossec.conf", $$"""
            <ossec_config>
              <syscheck>
                <disabled>no</disabled>
                <directories realtime="yes">{{watched}}</directories>
              </syscheck>
            </ossec_config>
            <ossec_config>
              <integration>
                <name>custom-vigil-yara</name>
                <group>syscheck</group>
                <options>{"rules": ["{{rules}}"], "max_file_size": 4096, "reload_seconds": 1}</options>
              </integration>
              <integration>
                <name>custom-vigil-clamav</name>
                <group>syscheck</group>
                <options>{"clamd_conf": "{{clamdConf}}", "timeout_seconds": 5}</options>
              </integration>
            </ossec_config>
            <ossec_config>
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

    private static string? Data(JsonElement alert, string name) =>
        alert.TryGetProperty("data", out var data) && data.TryGetProperty(name, out var value) ? value.GetString() : null;

    private static List<JsonElement> Detections(List<JsonElement> alerts, string rule) => [.. alerts.Where(a => Rule(a) == rule)];

    private static int Count(List<JsonElement> alerts, string rule) => alerts.Count(a => Rule(a) == rule);

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

    // The reload is picked up within reload_seconds; a file written before it is scanned with the old rules, so
    // the file is written again (new content) until the new rule matches.
    private static async Task PollUntilAsync(VigilProcess vigil, string alertsJson, Func<Task> write, Func<List<JsonElement>, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done(Read(alertsJson)))
        {
            if (clock.Elapsed > s_flow)
            {
                throw new TimeoutException($"no {what} within {s_flow.TotalSeconds} s; rules {string.Join(",", Read(alertsJson).Select(Rule))}. Output:\n{vigil.Output}");
            }

            await write();
            var written = Stopwatch.StartNew();
            while (written.Elapsed < TimeSpan.FromSeconds(3) && !done(Read(alertsJson)))
            {
                await Task.Delay(100);
            }
        }
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
