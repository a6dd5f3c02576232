using System.CommandLine;
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
        root.Subcommands.Add(command);
    }
}
