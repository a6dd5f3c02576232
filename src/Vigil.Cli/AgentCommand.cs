using System.CommandLine;
using Vigil.Agent;
using Vigil.Hosting;
using Vigil.Transport.Agent;

namespace Vigil.Cli;

/// <summary>`vigil agent`: FIM and execd on this host, connected to the manager it enrolled with.</summary>
internal static class AgentCommand
{
    public static void AddTo(RootCommand root)
    {
        var paths = new HomeOptions();
        var configOption = new Option<string?>("--config") { Description = "The ossec.conf to run (default: config/ossec.conf under the Vigil home)." };
        var manager = new Option<string?>("--manager") { Description = "HOST:PORT of the manager's agent port; several managers sharing one database as HOST:PORT,HOST:PORT,… in order of preference (the agent fails over to the next). Wins over the <client><server> blocks of ossec.conf, which win over the manager given at enrollment." };
        var directories = new Option<string[]>("--directory") { Description = "Watch this directory in real time instead of the configuration's <directories> (repeatable)." };
        var keepAlive = new Option<int>("--keep-alive") { Description = "Seconds between keep-alives.", DefaultValueFactory = _ => 10 };
        var logJson = new Option<bool>("--log-json") { Description = "Write logs as JSON." };
        var command = new Command("agent", "Run the agent: file monitoring and active response, reporting to the manager over mutual TLS.")
        {
            configOption, manager, directories, keepAlive, logJson,
        };
        paths.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var home = paths.ResolveHome(parseResult);
            using var diagnosticLog = DiagnosticLog.Start(paths.ResolveDataDir(parseResult), TimeProvider.System);
            var data = paths.ResolveDataDir(parseResult);
            if (AgentCredentials.TryLoad(data) is not { } credentials)
            {
                await Console.Error.WriteLineAsync($"vigil agent: not enrolled (no identity under {AgentCredentials.DirectoryUnder(data)}); run `vigil enroll` first");
                return ExitCodes.ConfigError;
            }

            var fromCommandLine = parseResult.GetValue(manager);
            if (!HostSettings.TryBind<AgentSettings>(s => s.Managers = fromCommandLine, [AgentSettings.Validator], out _, out var failures))
            {
                await Console.Error.WriteLineAsync(string.Join('\n', failures.Select(f => $"vigil agent: {f}")));
                return ExitCodes.Usage;
            }

            if (fromCommandLine is { } endpoint)
            {
                credentials = credentials with { Manager = endpoint };
            }

            var (config, diagnostics) = ConfigLoading.LoadWithoutRules(parseResult.GetValue(configOption), home);

            // The integrations run on the manager: their notices (no VirusTotal key, …) are not the agent's to give.
            ConfigLoading.Print([.. diagnostics.Where(d => !ConfigLoading.IsIntegrationNotice(d))], Console.Error);
            if (ConfigLoading.HasErrors(diagnostics))
            {
                await Console.Error.WriteLineAsync("vigil agent: the configuration has errors (see above); nothing was started");
                return ExitCodes.ConfigError;
            }

            // Which managers: --manager, else the <client><server> blocks (in order), else the one it enrolled with.
            if (config.Client.Servers is [var first, ..] servers)
            {
                if (fromCommandLine is null)
                {
                    credentials = credentials with { Manager = config.Client.ManagerList };
                    await Console.Out.WriteLineAsync($"vigil: managers from <client> at {first.Source}: {config.Client.ManagerList}");
                }
                else
                {
                    await Console.Out.WriteLineAsync($"vigil: --manager {fromCommandLine} is used; the {servers.Count} <server> block(s) of <client> at {first.Source} are not");
                }
            }

            config = SyscheckOverrides.WithRealtimeDirectories(config, parseResult.GetValue(directories));
            ConfigLoading.Print([.. ConfigLoading.CheckInstall(config, missingProgramIsError: false).Where(d => !d.Message.StartsWith("<directories>", StringComparison.Ordinal))], Console.Error);

            // The engine blocks run here, on the agent's files (docs/engines.md): what config check says of them, and
            // options that cannot be read stop the agent before anything starts, as one message at their line.
            ConfigLoading.Print([.. Intel.Engines.EngineConfigCheck.Check(config, compileRules: false).Select(d => d with { Severity = Core.Diagnostics.DiagnosticSeverity.Warning })], Console.Error);
            var checkedConfig = config;
            if (!HostSettings.TryBind<HostConfiguration>(s => s.Config = checkedConfig, [HostConfiguration.Engines], out _, out var problems))
            {
                await Console.Error.WriteLineAsync(string.Join('\n', problems.Select(p => $"vigil agent: {p}; nothing was started")));
                return ExitCodes.ConfigError;
            }

            await AgentRun.RunAsync(
                config, credentials, new AgentPaths(home, data), TimeSpan.FromSeconds(Math.Max(1, parseResult.GetValue(keepAlive))), parseResult.GetValue(logJson), cancellationToken);
            return ExitCodes.Success;
        });
        root.Subcommands.Add(command);
    }
}
