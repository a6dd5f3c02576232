using System.Threading.Channels;
using Vigil.Core.Configuration;
using Vigil.Response.Execd;

namespace Vigil.Cli.Run;

/// <summary>Active responses running concurrently, tracked so a host can wait for them before it stops.</summary>
internal sealed class ResponseTasks
{
    private readonly List<Task> _tasks = [];

    public Task Start(Func<Task> run)
    {
        var task = Task.Run(run, CancellationToken.None);
        lock (_tasks)
        {
            _tasks.RemoveAll(t => t.IsCompleted);
            _tasks.Add(task);
        }

        return task;
    }

    /// <summary>Completes when every response started so far has ended (failures were logged by execd).</summary>
    public Task WhenAllAsync()
    {
        Task[] tasks;
        lock (_tasks)
        {
            tasks = [.. _tasks];
        }

        return Task.WhenAll(tasks).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}

/// <summary>Syscheck settings as the hosts apply them.</summary>
internal static class SyscheckOverrides
{
    /// <summary>
    /// Vigil's own state must never be monitored, even when a watched tree contains it: every alert written to
    /// alerts.json would otherwise be a change, and an alert, and so on. Likewise the per-filesystem quarantine vaults.
    /// </summary>
    public static SyscheckOptions WithoutOwnFiles(SyscheckOptions syscheck, string dataDirectory, string activeResponseLog) => syscheck with
    {
        Ignore =
        [
            .. syscheck.Ignore,
            new PathFilter(dataDirectory, IsSregex: false),
            new PathFilter(Path.GetDirectoryName(activeResponseLog)!, IsSregex: false),
            new PathFilter("/.vigil-quarantine", IsSregex: true),
        ],
    };

    /// <summary><c>--directory</c>: watch these directories in real time instead of the configured ones.</summary>
    public static OssecConfig WithRealtimeDirectories(OssecConfig config, string[]? directories) =>
        directories is not { Length: > 0 }
            ? config
            : config with
            {
                Syscheck = config.Syscheck with
                {
                    Disabled = false,
                    Directories = [.. directories.Select(d => new DirectoryOptions { Path = Path.TrimEndingDirectorySeparator(Path.GetFullPath(d)), Realtime = true })],
                },
            };
}

/// <summary>What every host does to start and to stop.</summary>
internal static class HostLifetime
{
    /// <summary>
    /// Starts the host, runs until cancelled (Ctrl-C, SIGTERM), then disposes it whatever happened. Under systemd
    /// (<paramref name="notifier"/>), READY=1 follows the start and STOPPING=1 precedes the disposal.
    /// </summary>
    public static async Task RunUntilStoppedAsync(
        Func<CancellationToken, Task> start, IAsyncDisposable host, CancellationToken cancellationToken, Hosts.SystemdNotifier? notifier = null, string status = "running")
    {
        try
        {
            await start(cancellationToken);
            if (notifier is not null)
            {
                await notifier.ReadyAsync(status, cancellationToken);
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await Console.Out.WriteLineAsync("vigil: stopping");
        }
        finally
        {
            if (notifier is not null)
            {
                await notifier.StoppingAsync();
            }

            await host.DisposeAsync();
        }
    }

    /// <summary>Gives analysis up to five seconds to take what the producers left in its channel.</summary>
    public static async Task DrainAsync<T>(ChannelReader<T> reader, TimeProvider time)
    {
        var deadline = time.GetUtcNow().AddSeconds(5);
        while (reader.Count > 0 && time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), time);
        }
    }
}

/// <summary>The execd every host runs: the configuration's commands, Vigil's remove-threat in process when the shipped wrapper is in place.</summary>
internal static class HostExecd
{
    public static ExecDaemon Create(OssecConfig config, string home, string data, string activeResponseLog, TimeProvider time) =>
        new(
            new ExecdOptions
            {
                Home = home,
                Commands = config.Commands,
                ActiveResponses = config.ActiveResponses,
                InProcess = RemoveThreatCommand.InProcess(home, data, [.. config.Syscheck.Directories.Select(d => d.Path)], time, config.Syscheck.FileMaxSizeBytes),
            },
            new ActiveResponseLog(activeResponseLog, time),
            time);
}
