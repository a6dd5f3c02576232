using System.CommandLine;
using Vigil.Response.Execd;
using Vigil.Response.Quarantine;
using Vigil.Response.RemoveThreat;

namespace Vigil.Cli;

/// <summary>
/// `vigil remove-threat`: an active-response program speaking Wazuh's stdin protocol (usable by Vigil's execd and
/// by a real Wazuh execd through a one-line wrapper in active-response/bin). The directories it may act in come
/// from <c>--allow</c> and from the <c>monitoredDirectories</c> delegate (syscheck's directories, given the home).
/// </summary>
internal static class RemoveThreatCommand
{
    public static void AddTo(RootCommand root, Func<string, IReadOnlyList<string>>? monitoredDirectories = null)
    {
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
        var command = new Command("remove-threat", "Active-response program: quarantine the file an alert flags (reads Wazuh's AR JSON on stdin).")
        {
            allow, allowHardLinks, action, maxSize,
        };
        paths.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var home = paths.ResolveHome(parseResult);
            var dataDir = paths.ResolveDataDir(parseResult);
            var allowed = (parseResult.GetValue(allow) ?? [])
                .Concat(monitoredDirectories?.Invoke(home) ?? [])
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
        root.Subcommands.Add(command);
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
    /// shipped wrapper (a script put there by the operator runs as a child process, as always). Same options as the
    /// wrapper gives: the monitored directories, quarantine, no hard links.
    /// </summary>
    internal static IReadOnlyDictionary<string, InProcessProgram> InProcess(
        string home, string dataDir, IReadOnlyList<string> monitored, string activeResponseLog, TimeProvider time, long? maxFileSizeBytes = null)
    {
        var wrapper = Path.Combine(home, "active-response", "bin", "remove-threat");
        try
        {
            var info = new FileInfo(wrapper);
            if (info.LinkTarget is not null || !info.Exists || info.Length > 4096 || !File.ReadAllText(wrapper).Contains(WrapperMarker, StringComparison.Ordinal))
            {
                return new Dictionary<string, InProcessProgram>();
            }
        }
        catch (IOException)
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
