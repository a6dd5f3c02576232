using Vigil.Tests.Common;

using static Vigil.Benchmarks.ChildProcesses;

namespace Vigil.Benchmarks.Response;

/// <summary>
/// `./vigil run` SIGKILLed at a random moment of each of N bursts of new files (one in ten EICAR) and started again
/// each time, then one last burst without a kill (<see cref="CrashDrill"/>, the same drill as the end-to-end crash
/// test with a small count). Reports kills, files, and what was lost or duplicated: FIM "added" alerts, verdicts
/// (200100), removals (100092) and quarantine records (200303), each expected exactly once per file. The baseline is
/// the requirement itself: 0 lost, 0 duplicated.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class CrashRunScenario : IScenario
{
    public string Name => "crash-run";

    public string Description => "vigil run SIGKILLed during bursts of new files, restarted each time: lost and duplicated alerts, verdicts, removals, quarantines (--kills 50 --files 200 --seed 1)";

    public async Task<int> RunAsync(string[] args)
    {
        var kills = Option(args, "--kills", 50);
        var files = Option(args, "--files", 200);
        var seed = Option(args, "--seed", 1);
        if (!File.Exists(VigilProcess.DllPath))
        {
            await Console.Error.WriteLineAsync("crash-run: build the CLI first: dotnet build src/Vigil.Cli -c Release");
            return 2;
        }

        using var temp = new TempDirectory("vigil-bench-crash-run");
        var home = temp.Combine("home");
        var data = Path.Combine(home, "data");
        var watched = temp.Combine("watched");
        Directory.CreateDirectory(watched);
        temp.WriteFile("home/config/ossec.conf", $"""
            <ossec_config>
              <syscheck><disabled>no</disabled><max_eps>0</max_eps><directories realtime="yes">{watched}</directories></syscheck>
              <integration><name>virustotal</name><api_key></api_key><rule_id>100200,100201</rule_id><alert_format>json</alert_format></integration>
              <command><name>remove-threat</name><executable>remove-threat</executable><timeout_allowed>no</timeout_allowed></command>
              <active-response><disabled>no</disabled><command>remove-threat</command><location>local</location><rules_id>87105,200100</rules_id></active-response>
              <ruleset><rule_dir>{RepositoryPaths.Get("ruleset", "rules")}</rule_dir><rule_include>config/rules/local_rules.xml</rule_include></ruleset>
            </ossec_config>
            """);
        TestInstall.WriteSeedRules(temp, "home", watched);
        temp.WriteFile("home/active-response/bin/remove-threat", await File.ReadAllTextAsync(RepositoryPaths.Get("active-response", "bin", "remove-threat")));

        await Console.Out.WriteLineAsync($"host: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; {kills} kills, {files} files a burst, seed {seed}");
        VigilProcess? vigil = null;
        try
        {
            var drill = new CrashDrill(watched, Path.Combine(data, "logs", "alerts", "alerts.json"), seed)
            {
                StartAsync = async () =>
                {
                    if (vigil is not null)
                    {
                        await vigil.DisposeAsync();
                    }

                    vigil = VigilProcess.Start(["run", "--config", Path.Combine(home, "config", "ossec.conf"), "--home", home, "--data-dir", data, "--no-web"]);
                    await vigil.WaitForOutputAsync("vigil: ready", TimeSpan.FromSeconds(120));
                },
                KillAsync = _ => vigil!.KillAsync(),
                Settle = TimeSpan.FromSeconds(180),
            };
            var result = await drill.RunAsync(kills, files, line => Console.Out.WriteLine($"  {line}"));
            await Console.Out.WriteLineAsync($"crash-run: {result}");
            await Console.Out.WriteLineAsync($"kills {result.Kills}  files {result.Files}  lost {result.Lost}  duplicated {result.Duplicated}  (baseline: 0 lost, 0 duplicated)");
            return result.Lost == 0 && result.Duplicated == 0 ? 0 : 1;
        }
        finally
        {
            if (vigil is not null)
            {
                await vigil.DisposeAsync();
            }
        }
    }
}
