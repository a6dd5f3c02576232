using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// A manager and its agents as separate `vigil` processes on 127.0.0.1: each with its own home, data directory and
/// watched directory under one temp folder. The manager's copy of the seed rules tests the agents' folder, so
/// 100200/100201 (and so the local intelligence list, 200100, and remove-threat) fire for any agent's file.
/// Agents send without syscheck's default throttle (max_eps 50), so bursts reach the manager as fast as they happen.
/// </summary>
internal sealed class TransportFixture : IDisposable
{
    public const string Password = "s3cret-enrollment-password";

    private readonly TempDirectory _temp = new("vigil-transport");
    private readonly string _managerResponses;

    /// <param name="managerResponses">Extra &lt;command&gt;/&lt;active-response&gt; blocks for the manager's ossec.conf only.</param>
    /// <param name="shippedRules">The manager keeps the guide's rules verbatim (they test /root, not the agents' folder).</param>
    /// <param name="managerGlobal">Elements for the manager's &lt;global&gt; block (e.g. min_free_disk).</param>
    public TransportFixture(string managerResponses = "", bool shippedRules = false, string managerGlobal = "")
    {
        _managerResponses = managerResponses;
        AgentsRoot = _temp.Combine("agents");
        Directory.CreateDirectory(AgentsRoot);
        ManagerHome = _temp.Combine("manager");
        AgentPort = FreePort();
        EnrollmentPort = FreePort();
        WriteHome("manager", watched: null, global: managerGlobal);
        if (shippedRules)
        {
            _temp.WriteFile("manager/config/rules/local_rules.xml", File.ReadAllText(RepositoryPaths.Get("config", "rules", "local_rules.xml")));
        }
        else
        {
            TestInstall.WriteSeedRules(_temp, "manager", AgentsRoot);
        }

        PasswordFile = _temp.WriteFile("password", Password + "\n");
    }

    public string AgentsRoot { get; }

    public string ManagerHome { get; }

    public string ManagerData => Path.Combine(ManagerHome, "data");

    public int AgentPort { get; }

    public int EnrollmentPort { get; }

    public string PasswordFile { get; }

    public string AlertsJson => Path.Combine(ManagerData, "logs", "alerts", "alerts.json");

    public VigilProcess StartManager(IReadOnlyDictionary<string, string>? environment = null, params string[] extra) => VigilProcess.Start(
    [
        "manager", "--home", ManagerHome, "--data-dir", ManagerData, "--port", $"{AgentPort}", "--enrollment-port", $"{EnrollmentPort}",
        "--password-file", PasswordFile, "--web-port", "0", .. extra,
    ], environment);

    /// <summary>Another manager (its own data directory, so its own CA) on this fixture's ports: an impostor to the agents.</summary>
    public VigilProcess StartImpostorManager() => VigilProcess.Start(
    [
        "manager", "--home", ManagerHome, "--data-dir", _temp.Combine("impostor-data"), "--port", $"{AgentPort}", "--enrollment-port", $"{EnrollmentPort}",
        "--password-file", PasswordFile, "--web-port", "0",
    ]);

    /// <summary>Creates an agent's home (config watching its own directory) and enrolls it; returns its paths.</summary>
    /// <remarks><paramref name="syscheck"/> goes into the agent's <c>&lt;syscheck&gt;</c>, <paramref name="global"/> into a <c>&lt;global&gt;</c>.</remarks>
    public async Task<AgentHome> EnrollAsync(string name, string syscheck = "", string global = "", ManagerNode? at = null)
    {
        var watched = Path.Combine(AgentsRoot, name);
        Directory.CreateDirectory(watched);
        var home = WriteHome($"homes/{name}", watched, syscheck, global);
        var agent = new AgentHome(name, home, Path.Combine(home, "data"), watched);
        var output = await RunToEndAsync(
            ["enroll", "--manager", $"127.0.0.1:{at?.EnrollmentPort ?? EnrollmentPort}", "--agent-port", $"{at?.AgentPort ?? AgentPort}", "--name", name, "--home", agent.Home, "--data-dir", agent.Data],
            new Dictionary<string, string> { ["VIGIL_ENROLL_PASSWORD"] = Password });
        Assert.Contains("vigil: enrolled as agent", output, StringComparison.Ordinal);
        return agent;
    }

    public static VigilProcess StartAgent(AgentHome agent, IReadOnlyDictionary<string, string>? environment = null) => VigilProcess.Start(
        ["agent", "--home", agent.Home, "--data-dir", agent.Data, "--keep-alive", "1"], environment);

    public static async Task<string> RunToEndAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        await using var process = VigilProcess.Start(arguments, environment);
        var clock = Stopwatch.StartNew();
        while (!process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(50);
        }

        await Task.Delay(100); // Let the last output lines arrive.
        return process.Output;
    }

    public List<JsonElement> Alerts()
    {
        if (!File.Exists(AlertsJson))
        {
            return [];
        }

        using var stream = new FileStream(AlertsJson, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = reader.ReadToEnd().Split('\n');

        // The last piece is empty, or a line the manager is writing right now: only whole lines are alerts.
        return [.. lines[..^1].Select(line => JsonDocument.Parse(line).RootElement.Clone())];
    }

    public static string RuleId(JsonElement alert) => alert.GetProperty("rule").GetProperty("id").GetString()!;

    public async Task WaitForAlertsAsync(Func<List<JsonElement>, bool> done, TimeSpan timeout, params VigilProcess[] processes)
    {
        var clock = Stopwatch.StartNew();
        while (!done(Alerts()))
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"alerts not as expected; got {string.Join(",", Alerts().Select(RuleId))}. Output:\n{string.Join("\n----\n", processes.Select(p => p.Output))}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Another manager for this fixture's agents (its own home, data directory and ports; the same rules, password
    /// and <paramref name="extra"/> arguments each time it starts, e.g. a shared database).
    /// </summary>
    public ManagerNode AddManager(string name, params string[] extra)
    {
        var home = WriteHome(name, watched: null);
        TestInstall.WriteSeedRules(_temp, name, AgentsRoot);
        return new ManagerNode(name, home, Path.Combine(home, "data"), FreePort(), FreePort(), PasswordFile, extra);
    }

    /// <summary>The whole lines of an alerts.json (the last, partial one is not an alert yet).</summary>
    public static List<JsonElement> ReadAlerts(string alertsJson)
    {
        if (!File.Exists(alertsJson))
        {
            return [];
        }

        using var stream = new FileStream(alertsJson, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = reader.ReadToEnd().Split('\n');
        return [.. lines[..^1].Select(line => JsonDocument.Parse(line).RootElement.Clone())];
    }

    private string WriteHome(string relative, string? watched, string extraSyscheck = "", string global = "")
    {
        var home = _temp.Combine(relative);
        var syscheck = watched is null
            ? "<disabled>yes</disabled>"
            : $"""<disabled>no</disabled><max_eps>0</max_eps><directories realtime="yes">{watched}</directories>{extraSyscheck}""";
        _temp.WriteFile($"{relative}/config/ossec.conf", $"""
            <ossec_config>
              <global>{global}</global>
              <syscheck>
                {syscheck}
              </syscheck>
              <integration>
                <name>virustotal</name>
                <api_key></api_key>
                <rule_id>100200,100201</rule_id>
                <alert_format>json</alert_format>
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
                <rules_id>87105,200100</rules_id>
              </active-response>
              {(watched is null ? _managerResponses : "")}
              <ruleset>
                <rule_dir>{RepositoryPaths.Get("ruleset", "rules")}</rule_dir>
                <rule_include>config/rules/local_rules.xml</rule_include>
              </ruleset>
            </ossec_config>
            """);
        if (watched is not null)
        {
            _temp.WriteFile($"{relative}/config/rules/local_rules.xml", File.ReadAllText(RepositoryPaths.Get("config", "rules", "local_rules.xml")));
        }

        TestInstall.WriteRemoveThreatScript(_temp, relative);
        return home;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => _temp.Dispose();
}

/// <summary>One of several managers of a <see cref="TransportFixture"/>.</summary>
internal sealed record ManagerNode(string Name, string Home, string Data, int AgentPort, int EnrollmentPort, string PasswordFile, IReadOnlyList<string> Extra)
{
    public string AlertsJson => Path.Combine(Data, "logs", "alerts", "alerts.json");

    public string AgentEndpoint => $"127.0.0.1:{AgentPort}";

    public List<JsonElement> Alerts() => TransportFixture.ReadAlerts(AlertsJson);

    public VigilProcess Start(IReadOnlyDictionary<string, string>? environment = null) => VigilProcess.Start(
    [
        "manager", "--home", Home, "--data-dir", Data, "--port", $"{AgentPort}", "--enrollment-port", $"{EnrollmentPort}",
        "--password-file", PasswordFile, "--web-port", "0", .. Extra,
    ], environment);
}

internal sealed record AgentHome(string Name, string Home, string Data, string Watched)
{
    public string ActiveResponseLog => Path.Combine(Data, "logs", "active-responses.log");
}
