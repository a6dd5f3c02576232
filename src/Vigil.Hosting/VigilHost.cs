using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Vigil.Hosting;

/// <summary>
/// The one place where a long-running command (`vigil agent`, `vigil manager`, `vigil run`) starts and stops, on the
/// .NET Generic Host: each stage is a hosted service, started in the order given and stopped in the reverse order,
/// every one of them whatever happened at start; the stop comes from the command's cancellation (Ctrl-C, SIGTERM).
/// Under systemd (<see cref="SystemdNotifier"/>), READY=1 follows the start and STOPPING=1 precedes the stop.
/// </summary>
internal static class VigilHost
{
    /// <summary>Runs <paramref name="stages"/> until <paramref name="cancellationToken"/> is cancelled, then stops them.</summary>
    public static async Task RunAsync(
        IReadOnlyList<IHostedService> stages, CancellationToken cancellationToken, SystemdNotifier? notifier = null, string status = "running")
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });

        // The command's cancellation is the only stop signal (System.CommandLine turns Ctrl-C and SIGTERM into it);
        // a stop waits for every stage, however long its own drain takes.
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();
        builder.Services.Configure<HostOptions>(o =>
        {
            o.ShutdownTimeout = Timeout.InfiniteTimeSpan;
            o.ServicesStartConcurrently = false;
            o.ServicesStopConcurrently = false;
        });
        foreach (var stage in stages)
        {
            if (stage is DelegateStage own)
            {
                own.CommandToken = cancellationToken;
            }

            builder.Services.AddSingleton(stage);
        }

        if (notifier is not null)
        {
            builder.Services.AddSingleton<IHostedService>(new SystemdStage(notifier, status));
        }

        using var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await Console.Out.WriteLineAsync("vigil: stopping");
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>A host object with a start and an asynchronous disposal, as one hosted service: its disposal is its stop.</summary>
    public static IHostedService Stage(Func<CancellationToken, Task> start, IAsyncDisposable stop) => new DelegateStage(start, stop);

    // Started with the command's own token, not the host's start token (which the host disposes once started): what a
    // stage starts with that token (the transport's connections, FIM) ends when the command is cancelled.
    private sealed class DelegateStage(Func<CancellationToken, Task> start, IAsyncDisposable stop) : IHostedService
    {
        public CancellationToken CommandToken { get; set; }

        public Task StartAsync(CancellationToken cancellationToken) => start(CommandToken);

        public async Task StopAsync(CancellationToken cancellationToken) => await stop.DisposeAsync();
    }

    // Started after (so READY=1 follows) every stage; STOPPING=1 before any stage stops.
    private sealed class SystemdStage(SystemdNotifier notifier, string status) : IHostedLifecycleService
    {
        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartedAsync(CancellationToken cancellationToken) => notifier.ReadyAsync(status, cancellationToken);

        public Task StoppingAsync(CancellationToken cancellationToken) => notifier.StoppingAsync();

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class CommandLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
