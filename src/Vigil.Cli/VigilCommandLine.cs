using System.CommandLine;

namespace Vigil.Cli;

/// <summary>The `vigil` command tree: one class per command, composed here.</summary>
internal static class VigilCommandLine
{
    /// <summary>Each top-level command by its name, in the order `vigil --help` lists them.</summary>
    internal static readonly (string Name, Action<RootCommand> AddTo)[] Commands =
    [
        ("run", RunCommand.AddTo),
        ("manager", ManagerCommand.AddTo),
        ("agent", AgentCommand.AddTo),
        ("enroll", EnrollCommand.AddTo),
        ("agents", AgentsCommand.AddTo),
        ("eicar", EicarCommand.AddTo),
        ("logtest", LogtestCommand.AddTo),
        ("config", ConfigCheckCommand.AddTo),
        ("remove-threat", static root => RemoveThreatCommand.AddTo(root, ConfigLoading.MonitoredDirectories)),
        ("quarantine", QuarantineCommand.AddTo),
        ("deadletter", DeadLetterCommand.AddTo),
        ("integration", IntegrationCommand.AddTo),
        ("scan", ScanCommand.AddTo),
        ("vt", VtCommand.AddTo),
        ("yara", YaraCommand.AddTo),
        ("status", StatusCommand.AddTo),
    ];

    public static RootCommand Build() => Build(only: null);

    /// <summary>The tree with every command, or with <paramref name="only"/> alone (one of <see cref="Commands"/>).</summary>
    internal static RootCommand Build(string? only)
    {
        var root = new RootCommand("Vigil: real-time malware detection and removal for Linux hosts.");
        foreach (var (name, addTo) in Commands)
        {
            if (only is null || name == only)
            {
                addTo(root);
            }
        }

        foreach (var option in root.Options.OfType<VersionOption>())
        {
            option.Action = new PrintVersion();
        }

        return root;
    }

    /// <summary><c>vigil --version</c>: the build's one version (<see cref="Core.VigilVersion"/>), whatever assembly hosts the command line.</summary>
    private sealed class PrintVersion : System.CommandLine.Invocation.SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Core.VigilVersion.Current);
            return ExitCodes.Success;
        }
    }

    /// <summary>
    /// Runs the command line. Bad usage (an unknown command or option, a value of the wrong type, a missing argument)
    /// prints what is wrong and the command's usage and exits 2, as the README's table says.
    /// </summary>
    /// <summary>How long a cancelled command may take to stop before the process exits 130 anyway.</summary>
    internal static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    public static async Task<int> InvokeAsync(string[] args)
    {
        // A command line that starts with a command's name needs that command alone: a one-shot command such as
        // `vigil scan` does not build the other fifteen (their options, and the JIT's work on them) at every start.
        // Anything else (no command, --help, --version, a typo) gets the whole tree, for the full help and errors.
        var only = args.Length > 0 ? CommandNamed(args[0]) : null;
        var parseResult = Build(only).Parse(args);
        if (parseResult.Errors.Count == 0)
        {
            // Ctrl-C and SIGTERM cancel the command; a long-running role then drains and stops its stages, which
            // may take more than the library's default of 2 s (after which it would exit 130 mid-stop). 60 s is
            // within systemd's default stop timeout (90 s).
            return await parseResult.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = StopTimeout });
        }

        foreach (var error in parseResult.Errors)
        {
            await Console.Error.WriteLineAsync($"vigil: {error.Message}");
        }

        await Console.Error.WriteLineAsync($"vigil: see `vigil {string.Join(' ', CommandPath(parseResult.CommandResult))} --help`".Replace("vigil  --help", "vigil --help", StringComparison.Ordinal));
        return ExitCodes.Usage;
    }

    private static string? CommandNamed(string name)
    {
        foreach (var (known, _) in Commands)
        {
            if (known == name)
            {
                return known;
            }
        }

        return null;
    }

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (var current = result; current?.Parent is System.CommandLine.Parsing.CommandResult parent; current = parent)
        {
            names.Push(current.Command.Name);
        }

        return names;
    }
}
