using System.CommandLine;
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
                .Concat(monitoredDirectories?.Invoke(home) ?? [])
                .Concat(RemoveThreatFactory.MonitoredFromHost())
                .ToArray();
            var program = RemoveThreatFactory.CreateProgram(
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
}
