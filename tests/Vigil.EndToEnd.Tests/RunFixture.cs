using System.Text.Json;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// A Vigil install in a temp folder for `vigil run`: the seed's configuration pointed at a temp watched directory
/// (its rules 100200/100201 test that directory instead of /root), the built-in ruleset of the checkout, and an
/// active-response/bin/remove-threat that runs the built `vigil remove-threat`.
/// </summary>
internal sealed class RunFixture : IDisposable
{
    private readonly TempDirectory _temp = new("vigil-e2e");

    public RunFixture(string? apiKey = null, Uri? virusTotalUrl = null, string? certificatePem = null, string executable = "remove-threat", string syscheck = "", string global = "")
    {
        Home = _temp.Combine("home");
        Watched = _temp.Combine("watched");
        Directory.CreateDirectory(Watched);
        var options = virusTotalUrl is null
            ? ""
            : $$"""<options>{"base_url": "{{virusTotalUrl}}", "trusted_certificate": "{{certificatePem}}", "requests_per_minute": 600}</options>""";
        _temp.WriteFile("home/config/ossec.conf", $"""
            <ossec_config>
              <global>{global}</global>
              <syscheck>
                <disabled>no</disabled>
                <directories realtime="yes">{Watched}</directories>
                {syscheck}
              </syscheck>
            </ossec_config>
            <ossec_config>
              <integration>
                <name>virustotal</name>
                <api_key>{apiKey}</api_key>
                <rule_id>100200,100201</rule_id>
                <alert_format>json</alert_format>
                {options}
              </integration>
            </ossec_config>
            <ossec_config>
              <command>
                <name>remove-threat</name>
                <executable>{executable}</executable>
                <timeout_allowed>no</timeout_allowed>
              </command>
              <active-response>
                <disabled>no</disabled>
                <command>remove-threat</command>
                <location>local</location>
                <rules_id>87105,200100</rules_id>
              </active-response>
              <ruleset>
                <rule_dir>{RepositoryPaths.Get("ruleset", "rules")}</rule_dir>
                <rule_include>config/rules/local_rules.xml</rule_include>
              </ruleset>
            </ossec_config>
            """);
        TestInstall.WriteSeedRules(_temp, "home", Watched);
        TestInstall.WriteRemoveThreatScript(_temp, "home");

        // The guide's own script, byte for byte (it needs jq, which ./test installs).
        var seed = _temp.Combine("home", "active-response", "bin", "remove-threat.sh");
        File.Copy(RepositoryPaths.Get("tests", "Vigil.Response.Tests", "Fixtures", "remove-threat.sh"), seed);
        File.SetUnixFileMode(seed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Home { get; }

    public string Data => Path.Combine(Home, "data");

    public string Watched { get; }

    public string AlertsJson => Path.Combine(Data, "logs", "alerts", "alerts.json");

    public VigilProcess Start(IReadOnlyDictionary<string, string>? environment = null) => VigilProcess.Start(
        ["run", "--config", Path.Combine(Home, "config", "ossec.conf"), "--home", Home, "--data-dir", Data, "--web-port", "0"], environment);

    /// <summary>The rule ids in alerts.json, in order.</summary>
    public List<string> RuleIds()
    {
        if (!File.Exists(AlertsJson))
        {
            return [];
        }

        using var stream = new FileStream(AlertsJson, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var ids = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            using var doc = JsonDocument.Parse(line);
            ids.Add(doc.RootElement.GetProperty("rule").GetProperty("id").GetString()!);
        }

        return ids;
    }

    public List<JsonElement> Alerts() =>
        [.. File.ReadAllLines(AlertsJson).Select(l => JsonDocument.Parse(l).RootElement)];

    /// <summary>Waits until every id has an alert; fails with the alerts and the output so far.</summary>
    public async Task WaitForRulesAsync(VigilProcess vigil, TimeSpan timeout, params string[] ids)
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

    public void Dispose() => _temp.Dispose();
}
