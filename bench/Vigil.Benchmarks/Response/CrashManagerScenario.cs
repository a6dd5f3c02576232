using Vigil.Tests.Common;

using static Vigil.Benchmarks.ChildProcesses;

namespace Vigil.Benchmarks.Response;

/// <summary>
/// The manager path of <see cref="CrashRunScenario"/>: `./vigil manager` and a real enrolled `./vigil agent` (mutual
/// TLS) watching the directory; at a random moment of each burst the manager or the agent (seeded choice) is
/// SIGKILLed, and restarted. Same counts: FIM alerts, verdicts, removals and quarantine records, lost or duplicated.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class CrashManagerScenario : IScenario
{
    private const string Password = "bench-enrollment-password";

    public string Name => "crash-manager";

    public string Description => "the manager or its real agent SIGKILLed during bursts of new files, restarted each time: lost and duplicated alerts, verdicts, removals, quarantines (--kills 50 --files 200 --seed 1)";

    public async Task<int> RunAsync(string[] args)
    {
        var kills = Option(args, "--kills", 50);
        var files = Option(args, "--files", 200);
        var seed = Option(args, "--seed", 1);
        if (!File.Exists(VigilProcess.DllPath))
        {
            await Console.Error.WriteLineAsync("crash-manager: build the CLI first: dotnet build src/Vigil.Cli -c Release");
            return 2;
        }

        using var temp = new TempDirectory("vigil-bench-crash-manager");
        var watched = temp.Combine("watched");
        Directory.CreateDirectory(watched);
        var managerHome = WriteHome(temp, "manager", "<disabled>yes</disabled>", watched);
        var agentHome = WriteHome(temp, "agent", $"""<disabled>no</disabled><max_eps>0</max_eps><directories realtime="yes">{watched}</directories>""", watched);
        var passwordFile = temp.WriteFile("password", Password + "\n");
        var agentPort = FreePort();
        var enrollmentPort = FreePort();
        string[] managerArgs = ["manager", "--home", managerHome, "--data-dir", Path.Combine(managerHome, "data"), "--port", $"{agentPort}", "--enrollment-port", $"{enrollmentPort}", "--password-file", passwordFile, "--no-web"];
        string[] agentArgs = ["agent", "--home", agentHome, "--data-dir", Path.Combine(agentHome, "data")];

        await Console.Out.WriteLineAsync($"host: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; {kills} kills (manager or agent), {files} files a burst, seed {seed}");
        VigilProcess? manager = null;
        VigilProcess? agent = null;
        try
        {
            manager = VigilProcess.Start(managerArgs);
            await manager.WaitForOutputAsync("vigil: manager ready", TimeSpan.FromSeconds(120));
            await using (var enroll = VigilProcess.Start(
                ["enroll", "--manager", $"127.0.0.1:{enrollmentPort}", "--agent-port", $"{agentPort}", "--name", "crash", "--home", agentHome, "--data-dir", Path.Combine(agentHome, "data")],
                new Dictionary<string, string> { ["VIGIL_ENROLL_PASSWORD"] = Password }))
            {
                await enroll.WaitForOutputAsync("vigil: enrolled as agent", TimeSpan.FromSeconds(60));
            }

            var drill = new CrashDrill(watched, Path.Combine(managerHome, "data", "logs", "alerts", "alerts.json"), seed)
            {
                StartAsync = async () =>
                {
                    if (manager is null || manager.HasExited)
                    {
                        if (manager is not null)
                        {
                            await manager.DisposeAsync();
                        }

                        manager = VigilProcess.Start(managerArgs);
                        await manager.WaitForOutputAsync("vigil: manager ready", TimeSpan.FromSeconds(120));
                    }

                    if (agent is null || agent.HasExited)
                    {
                        if (agent is not null)
                        {
                            await agent.DisposeAsync();
                        }

                        agent = VigilProcess.Start(agentArgs);
                        await agent.WaitForOutputAsync("vigil: agent ready", TimeSpan.FromSeconds(120));
                    }
                },
                KillAsync = random => random.Next(2) == 0 ? manager!.KillAsync() : agent is null ? Task.CompletedTask : agent.KillAsync(),
                Settle = TimeSpan.FromSeconds(180),
            };
            var result = await drill.RunAsync(kills, files, line => Console.Out.WriteLine($"  {line}"));
            await Console.Out.WriteLineAsync($"crash-manager: {result}");
            await Console.Out.WriteLineAsync($"kills {result.Kills}  files {result.Files}  lost {result.Lost}  duplicated {result.Duplicated}  (baseline: 0 lost, 0 duplicated)");
            return result.Lost == 0 && result.Duplicated == 0 ? 0 : 1;
        }
        finally
        {
            if (agent is not null)
            {
                await agent.DisposeAsync();
            }

            if (manager is not null)
            {
                await manager.DisposeAsync();
            }
        }
    }

    // The guide's flow on both sides: the integration and the response on the manager, remove-threat (Vigil's
    // shipped wrapper, run in process) on the agent; rules 100200/100201 bound to the watched directory.
    private static string WriteHome(TempDirectory temp, string relative, string syscheck, string watched)
    {
        temp.WriteFile($"{relative}/config/ossec.conf", $"""
            <ossec_config>
              <syscheck>{syscheck}</syscheck>
              <integration><name>virustotal</name><api_key></api_key><rule_id>100200,100201</rule_id><alert_format>json</alert_format></integration>
              <command><name>remove-threat</name><executable>remove-threat</executable><timeout_allowed>no</timeout_allowed></command>
              <active-response><disabled>no</disabled><command>remove-threat</command><location>local</location><rules_id>87105,200100</rules_id></active-response>
              <ruleset><rule_dir>{RepositoryPaths.Get("ruleset", "rules")}</rule_dir><rule_include>config/rules/local_rules.xml</rule_include></ruleset>
            </ossec_config>
            """);
        TestInstall.WriteSeedRules(temp, relative, watched);
        temp.WriteFile($"{relative}/active-response/bin/remove-threat", File.ReadAllText(RepositoryPaths.Get("active-response", "bin", "remove-threat")));
        return temp.Combine(relative);
    }
}
