using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Vigil.Core.Diagnostics;

namespace Vigil.Hosting;

/// <summary>
/// The one place where a long-running command (`vigil agent`, `vigil manager`, `vigil run`) starts and stops, on the
/// .NET Generic Host: each stage (a step of the start with its undoing, <see cref="Stage(Func{CancellationToken, Task}, Func{Task})"/>,
/// or a long-running loop, <see cref="Loop"/>) is a hosted service, started in the order given and stopped in the
/// reverse order, every one of them whatever happened at start; the stop comes from the command's cancellation
/// (Ctrl-C, SIGTERM). A host lists its stages in that order, and that list is its whole start and stop order.
/// Under systemd (<see cref="SystemdNotifier"/>), READY=1 follows the start and STOPPING=1 precedes the stop.
/// </summary>
internal static class VigilHost
{
    /// <summary>Runs <paramref name="stages"/> until <paramref name="cancellationToken"/> is cancelled, then stops them.</summary>
    public static async Task RunAsync(
        IReadOnlyList<IHostedService> stages, CancellationToken cancellationToken, SystemdNotifier? notifier = null, string status = "running")
    {
        using var host = Build(stages, cancellationToken, notifier, status);
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

    /// <summary>
    /// Starts <paramref name="stages"/> as <see cref="RunAsync"/> does and hands back the running host, whose disposal
    /// is the stop (for callers that decide themselves when to stop, as tests do). A failed start stops what started.
    /// </summary>
    public static async Task<IAsyncDisposable> StartAsync(IReadOnlyList<IHostedService> stages, CancellationToken cancellationToken)
    {
        var host = Build(stages, cancellationToken, notifier: null, status: "running");
        try
        {
            await host.StartAsync(cancellationToken);
            return new Running(host);
        }
        catch
        {
            await new Running(host).DisposeAsync();
            throw;
        }
    }

    private static IHost Build(IReadOnlyList<IHostedService> stages, CancellationToken cancellationToken, SystemdNotifier? notifier, string status)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });

        // The command's cancellation is the only stop signal (System.CommandLine turns Ctrl-C and SIGTERM into it);
        // a stop waits for every stage, however long its own drain takes. A loop never stops the host: it logs what
        // fails and goes on, and one that ends anyway shows in its stage's health (see Loop).
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();
        builder.Services.Configure<HostOptions>(o =>
        {
            o.ShutdownTimeout = Timeout.InfiniteTimeSpan;
            o.ServicesStartConcurrently = false;
            o.ServicesStopConcurrently = false;
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.Ignore;
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

        return builder.Build();
    }

    /// <summary>A host object with a start and an asynchronous disposal, as one hosted service: its disposal is its stop.</summary>
    public static IHostedService Stage(Func<CancellationToken, Task> start, IAsyncDisposable stop) => new DelegateStage(start, stop.DisposeAsync);

    /// <summary>
    /// One step of a host's start and stop, as one hosted service: <paramref name="start"/> runs in the start order,
    /// <paramref name="stop"/> in the reverse order, whether or not the start ran (or got that far), so it must
    /// tolerate what was never opened.
    /// </summary>
    public static IHostedService Stage(Func<CancellationToken, Task> start, Func<Task> stop) =>
        new DelegateStage(start, async () => await stop());

    /// <summary>A step that only stops (the start has nothing to do): what must happen at that point of the stop order.</summary>
    public static IHostedService OnStop(Func<Task> stop) => Stage(_ => Task.CompletedTask, stop);

    /// <summary>
    /// A long-running loop as one hosted service: started on the thread pool with its own token, which its stop
    /// cancels before waiting for the loop to end. The loop itself logs what fails and goes on; one that ends before
    /// its stop (a fault) is reported by <paramref name="monitor"/> under <paramref name="name"/>, when given, and
    /// never stops the host.
    /// </summary>
    public static IHostedService Loop(string name, Func<CancellationToken, Task> run, StageMonitor? monitor = null) => new LoopStage(name, run, monitor);

    // Started with the command's own token, not the host's start token (which the host disposes once started): what a
    // stage starts with that token (the transport's connections, FIM) ends when the command is cancelled.
    private sealed class DelegateStage(Func<CancellationToken, Task> start, Func<ValueTask> stop) : IHostedService
    {
        public CancellationToken CommandToken { get; set; }

        public Task StartAsync(CancellationToken cancellationToken) => start(CommandToken);

        public async Task StopAsync(CancellationToken cancellationToken) => await stop();
    }

    private sealed class LoopStage(string name, Func<CancellationToken, Task> run, StageMonitor? monitor) : BackgroundService
    {
        private readonly CancellationTokenSource _stopping = new();
        private Task? _loop;

        public override string ToString() => name;

        public override Task StartAsync(CancellationToken cancellationToken)
        {
            _loop = Task.Run(() => run(_stopping.Token), CancellationToken.None);
            monitor?.Watch(name, _loop, _stopping.Token);
            return base.StartAsync(cancellationToken);
        }

        public override async Task StopAsync(CancellationToken cancellationToken)
        {
            if (_loop is not null)
            {
                await _stopping.CancelAsync();
            }

            await base.StopAsync(cancellationToken);
        }

        public override void Dispose()
        {
            _stopping.Dispose();
            base.Dispose();
        }

        // What the loop ended with was seen by the monitor; the host only waits for the end.
        protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
            _loop!.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
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

    private sealed class Running(IHost host) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await host.StopAsync(CancellationToken.None);
            }
            finally
            {
                host.Dispose();
            }
        }
    }

    private sealed class CommandLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
