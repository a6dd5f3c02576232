using Vigil.Core.Configuration;
using Vigil.Hosting;
using Vigil.Transport.Agent;

namespace Vigil.Agent;

/// <summary>
/// The wiring of `vigil agent` on the Generic Host (<see cref="VigilHost"/>), once its command line, enrollment and
/// configuration are read and checked: the host, systemd's notifications, and the line said at exit.
/// </summary>
internal static class AgentRun
{
    /// <summary>Runs the agent until <paramref name="cancellationToken"/> is cancelled.</summary>
    public static async Task RunAsync(
        OssecConfig config, AgentCredentials credentials, AgentPaths paths, TimeSpan keepAliveInterval, bool logJson, CancellationToken cancellationToken)
    {
        HostEnvironment.Export(paths.Home, paths.Data, config);
        using var loggers = HostLogging.Create(logJson);
        var options = new AgentConnectionOptions { KeepAliveInterval = keepAliveInterval };
        var host = new AgentHost(config, credentials, paths, options, loggers, Console.Out, TimeProvider.System);
        await using var systemd = SystemdNotifier.FromEnvironment(TimeProvider.System);
        await VigilHost.RunAsync(host.Services(), cancellationToken, systemd, $"agent {credentials.Id} for manager {credentials.Manager}");

        await Console.Out.WriteLineAsync("vigil: agent stopped");
    }
}
