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
        return root;
    }

    public static Task<int> InvokeAsync(string[] args) => Build().Parse(args).InvokeAsync();
}
