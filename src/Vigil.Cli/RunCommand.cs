using System.CommandLine;
using Vigil.Hosting;
using Vigil.Manager;

namespace Vigil.Cli;

/// <summary>
/// `vigil run`: the whole system in one process on the shipped configuration — FIM, analysis, intelligence, active
/// response — with no network and no API key needed. Ctrl-C (or SIGTERM) stops it cleanly.
/// </summary>
internal static class RunCommand
{
    public static void AddTo(RootCommand root)
    {
        var paths = new HomeOptions();
        var configOption = new Option<string?>("--config") { Description = "The ossec.conf to run (default: config/ossec.conf under the Vigil home)." };
        var directories = new Option<string[]>("--directory")
        {
            Description = "Watch this directory in real time instead of the configuration's <directories> (repeatable).",
            AllowMultipleArgumentsPerToken = false,
        };
        var logJson = new Option<bool>("--log-json") { Description = "Write logs as JSON." };
        var command = new Command("run", "Run file monitoring, analysis, intelligence, active response and the dashboard in one process.") { configOption, directories, logJson };
        paths.AddTo(command);
        var web = new WebCommandOptions();
        web.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var home = paths.ResolveHome(parseResult);
            using var diagnosticLog = DiagnosticLog.Start(paths.ResolveDataDir(parseResult), TimeProvider.System);
            var (config, rules, diagnostics) = ConfigLoading.Load(parseResult.GetValue(configOption), null, home);
            ConfigLoading.Print(diagnostics, Console.Error);
            if (ConfigLoading.HasErrors(diagnostics))
            {
                await Console.Error.WriteLineAsync("vigil run: the configuration has errors (see above); nothing was started");
                return ExitCodes.ConfigError;
            }

            config = SyscheckOverrides.WithRealtimeDirectories(config, parseResult.GetValue(directories));
            ConfigLoading.Print([.. ConfigLoading.CheckInstall(config, missingProgramIsError: false).Where(d => !d.Message.StartsWith("<directories>", StringComparison.Ordinal))], Console.Error);
            ConfigLoading.Print([.. Intel.Engines.EngineConfigCheck.Check(config, compileRules: false).Select(d => d with { Severity = Core.Diagnostics.DiagnosticSeverity.Warning })], Console.Error);
            var checkedConfig = config;
            if (!HostSettings.TryBind<HostConfiguration>(s => s.Config = checkedConfig, [HostConfiguration.Engines], out _, out var problems))
            {
                await Console.Error.WriteLineAsync(string.Join('\n', problems.Select(p => $"vigil run: {p}; nothing was started")));
                return ExitCodes.ConfigError;
            }

            var data = paths.ResolveDataDir(parseResult);
            if (!web.TryResolve(parseResult, data, "vigil run", out var webOptions))
            {
                return ExitCodes.Usage;
            }

            await ManagerRun.RunAllInOneAsync(config, rules, new AllInOnePaths(home, data), webOptions, cancellationToken, parseResult.GetValue(logJson));
            return ExitCodes.Success;
        });
        root.Subcommands.Add(command);
    }
}
