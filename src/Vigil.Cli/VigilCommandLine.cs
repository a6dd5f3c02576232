using System.CommandLine;

namespace Vigil.Cli;

/// <summary>The `vigil` command tree: one class per command, composed here.</summary>
internal static class VigilCommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Vigil: real-time malware detection and removal for Linux hosts.");
        RunCommand.AddTo(root);
        ManagerCommand.AddTo(root);
        AgentCommand.AddTo(root);
        EnrollCommand.AddTo(root);
        AgentsCommand.AddTo(root);
        EicarCommand.AddTo(root);
        LogtestCommand.AddTo(root);
        ConfigCheckCommand.AddTo(root);
        RemoveThreatCommand.AddTo(root, ConfigLoading.MonitoredDirectories);
        QuarantineCommand.AddTo(root);
        DeadLetterCommand.AddTo(root);
        IntegrationCommand.AddTo(root);
        ScanCommand.AddTo(root);
        VtCommand.AddTo(root);
        YaraCommand.AddTo(root);
        StatusCommand.AddTo(root);
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
        var parseResult = Build().Parse(args);
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
