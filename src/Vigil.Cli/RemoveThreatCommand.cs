using System.CommandLine;
using Vigil.Response.Execd;
using Vigil.Response.Quarantine;
using Vigil.Response.RemoveThreat;

namespace Vigil.Cli;

/// <summary>
/// `vigil remove-threat`: an active-response program speaking Wazuh's stdin protocol (usable by Vigil's execd and
/// by a real Wazuh execd). The directories it may act in come from <c>--allow</c> and from the
/// <c>monitoredDirectories</c> delegate (syscheck's directories, given the home). The same source is compiled into
/// the native program <c>vigil-remove-threat</c> (src/Vigil.RemoveThreat), whose root command is this one.
/// </summary>
internal static class RemoveThreatCommand
{
    public const string Description = "Active-response program: quarantine the file an alert flags (reads Wazuh's AR JSON on stdin).";

    public static void AddTo(RootCommand root, Func<string, IReadOnlyList<string>>? monitoredDirectories = null)
    {
        var command = new Command("remove-threat", Description);
        Configure(command, monitoredDirectories);
        root.Subcommands.Add(command);
    }

    /// <summary>Adds remove-threat's options and action to <paramref name="command"/> (a subcommand of `vigil`, or the native program's root).</summary>
    public static void Configure(Command command, Func<string, IReadOnlyList<string>>? monitoredDirectories = null)
    {
        monitoredDirectories ??= Core.Configuration.OssecConfigLoader.MonitoredDirectories;
        var paths = new HomeOptions();
        var allow = new Option<string[]>("--allow") { Description = "A directory files may be removed from (repeatable); syscheck's monitored directories are added.", AllowMultipleArgumentsPerToken = false };
        var allowHardLinks = new Option<bool>("--allow-hard-links") { Description = "Remove files that have more than one hard link (off: their other names may lie outside the monitored directories)." };
        var action = new Option<string>("--action") { Description = "quarantine (default) or delete, when the message's extra_args name neither.", DefaultValueFactory = _ => "quarantine" };
        action.AcceptOnlyFromAmong("quarantine", "delete");
        var maxSize = new Option<long>("--max-size") { Description = "The largest file (bytes) that is hashed for removal; a larger one is refused unread (default 1 GiB, syscheck's file_max_size).", DefaultValueFactory = _ => new RemoveThreatOptions().MaxFileSizeBytes };
        maxSize.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<long>() <= 0)
            {
                r.AddError("--max-size must be a positive number of bytes");
            }
        });
        command.Options.Add(allow);
        command.Options.Add(allowHardLinks);
        command.Options.Add(action);
        command.Options.Add(maxSize);
        paths.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var home = paths.ResolveHome(parseResult);
            var dataDir = paths.ResolveDataDir(parseResult);
            var allowed = (parseResult.GetValue(allow) ?? [])
                .Concat(monitoredDirectories(home))
                .Concat(MonitoredFromHost())
                .ToArray();
            var program = CreateProgram(
                home,
                dataDir,
                allowed,
                parseResult.GetValue(allowHardLinks),
                parseResult.GetValue(action) == "delete" ? QuarantineAction.Delete : QuarantineAction.Quarantine,
                TimeProvider.System,
                parseResult.GetValue(maxSize),
                paths.ActiveResponseLog(parseResult));
            return await program.RunAsync(Console.In, Console.Out, cancellationToken) == 0 ? ExitCodes.Success : ExitCodes.Findings;
        });
    }

    /// <summary>The environment variable through which `vigil run` and `vigil agent` tell the programs their execd
    /// starts which directories are monitored (with <c>--directory</c> they are not the configuration's).</summary>
    public const string MonitoredVariable = "VIGIL_MONITORED";

    /// <summary>Sets <see cref="MonitoredVariable"/> for the active-response programs this process starts.</summary>
    public static void ExportMonitored(IEnumerable<string> directories) =>
        Environment.SetEnvironmentVariable(MonitoredVariable, string.Join('\n', directories));

    private static string[] MonitoredFromHost() =>
        Environment.GetEnvironmentVariable(MonitoredVariable) is { Length: > 0 } value
            ? [.. value.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(Path.IsPathRooted)]
            : [];

    /// <summary>The remover as `vigil remove-threat` runs it: acting only inside <paramref name="allowed"/>, never on Vigil's own files.</summary>
    internal static RemoveThreatProgram CreateProgram(
        string home, string dataDir, IReadOnlyList<string> allowed, bool allowHardLinks, QuarantineAction defaultAction, TimeProvider time,
        long? maxFileSizeBytes = null, string? activeResponseLog = null)
    {
        var quarantine = new QuarantineOptions { DataDirectory = dataDir };
        var options = new RemoveThreatOptions
        {
            AllowedDirectories = allowed,
            ProtectedPaths =
            [
                Path.Combine(home, "active-response"), Path.Combine(home, "logs"), Path.Combine(home, "etc"),
                Path.Combine(home, "config"), Path.Combine(home, "ruleset"), dataDir, AppContext.BaseDirectory,
            ],
            AllowHardLinks = allowHardLinks,
            DefaultAction = defaultAction,
            MaxFileSizeBytes = maxFileSizeBytes ?? new RemoveThreatOptions().MaxFileSizeBytes,
        };
        QuarantineVault.EnsureDataDirectory(quarantine);
        var vault = new QuarantineVault(quarantine, new QuarantineStore(quarantine.DatabasePath, time), time);
        var log = new ActiveResponseLog(activeResponseLog ?? ActiveResponseLog.PathUnder(home), time);
        return new RemoveThreatProgram(new ThreatRemover(options, vault, time), log, options);
    }

    /// <summary>The line of Vigil's shipped wrapper <c>active-response/bin/remove-threat</c> that runs this command.</summary>
    public const string WrapperMarker = "\"$root/vigil\" remove-threat --home \"$root\"";

    /// <summary>
    /// What execd may run in process: Vigil's remove-threat, when <c>active-response/bin/remove-threat</c> is still the
    /// shipped wrapper or the package's native build of this command (a program put there by the operator runs as a
    /// child process, as always). Same options as the
    /// wrapper gives: the monitored directories, quarantine, no hard links.
    /// </summary>
    internal static IReadOnlyDictionary<string, InProcessProgram> InProcess(
        string home, string dataDir, IReadOnlyList<string> monitored, string activeResponseLog, TimeProvider time, long? maxFileSizeBytes = null)
    {
        if (!ShippedRemoveThreat.IsShipped(Path.Combine(home, "active-response", "bin", "remove-threat"), WrapperMarker))
        {
            return new Dictionary<string, InProcessProgram>();
        }

        return new Dictionary<string, InProcessProgram>(StringComparer.Ordinal)
        {
            [RemoveThreatProgram.DefaultProgramName] = (input, output, token) =>
                CreateProgram(home, dataDir, monitored, allowHardLinks: false, QuarantineAction.Quarantine, time, maxFileSizeBytes, activeResponseLog).RunAsync(input, output, token),
        };
    }
}
