using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Vigil.Core;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Core.Prevention;
using Vigil.Fim.Fanotify;

namespace Vigil.Hosting;

/// <summary>
/// On-access prevention as the hosts run it (docs/prevention.md): the fanotify guard on the syscheck directories
/// whose <c>prevention</c> is audit or block, its alerts into the host's queue (rules 200800–200807) through a bounded
/// channel, so a slow queue never holds a permission event. When it cannot run (no CAP_SYS_ADMIN, no kernel support,
/// no markable filesystem) one line says so, an alert 200805 records it, and detection goes on.
/// </summary>
internal sealed partial class PreventionStage : IAsyncDisposable
{
    private const int AlertCapacity = 4096;

    private readonly FanotifyGuard _guard;
    private readonly Channel<EventMessage> _alerts;
    private readonly Task _pump;
    private readonly StrongBox<long> _dropped;

    private PreventionStage(FanotifyGuard guard, Channel<EventMessage> alerts, Task pump, StrongBox<long> dropped)
    {
        _guard = guard;
        _alerts = alerts;
        _pump = pump;
        _dropped = dropped;
    }

    /// <summary>Alerts dropped because the channel to the queue was full.</summary>
    public long DroppedAlerts => Interlocked.Read(ref _dropped.Value);

    public IReadOnlyList<string> Marked => _guard.Marked;

    public PreventionStatistics Statistics => _guard.Statistics;

    /// <summary>The directories configured for prevention, with their modes (none: prevention is off).</summary>
    public static IReadOnlyList<PreventionDirectory> Directories(OssecConfig config) =>
        config.Syscheck.Disabled
            ? []
            : [.. config.Syscheck.Directories.Where(d => d.Prevention != PreventionMode.Off).Select(d => new PreventionDirectory(d.Path, d.Prevention))];

    /// <summary>
    /// Starts the guard, or returns null when no directory asks for prevention or it cannot run (said on
    /// <paramref name="output"/> and as alert 200805). <paramref name="verdicts"/> is called only when needed; the running
    /// guard's own failures, and alerts that cannot be queued, go to <paramref name="logger"/>.
    /// </summary>
    public static async Task<PreventionStage?> StartAsync(
        OssecConfig config, Func<IPreventionVerdicts> verdicts, IEventSink sink, TextWriter output, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(verdicts);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(output);
        var directories = Directories(config);
        if (directories.Count == 0)
        {
            return null;
        }

        IPreventionVerdicts known;
        try
        {
            known = verdicts();
        }
        catch (VigilException ex)
        {
            await UnavailableAsync([$"prevention is unavailable: {ex.Message}; detection goes on without it"], sink, output, cancellationToken);
            return null;
        }

        var alerts = Channel.CreateBounded<EventMessage>(new BoundedChannelOptions(AlertCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        var dropped = new StrongBox<long>();
        var guard = new FanotifyGuard(
            config.Prevention,
            directories,
            known,
            alert =>
            {
                if (!alerts.Writer.TryWrite(PreventionMessages.Message(alert)))
                {
                    Interlocked.Increment(ref dropped.Value);
                }
            },
            logger,
            time);
        var problems = guard.Start();
        if (problems.Count > 0)
        {
            await UnavailableAsync(problems, sink, output, cancellationToken);
        }

        if (!guard.IsRunning)
        {
            guard.Dispose();
            return null;
        }

        var pump = Task.Run(() => PumpAsync(alerts.Reader, sink, logger), CancellationToken.None);
        var stage = new PreventionStage(guard, alerts, pump, dropped);
        var prevention = config.Prevention;
        await output.WriteLineAsync(
            $"vigil: prevention on {string.Join(", ", directories.Where(d => guard.Marked.Contains(d.Path)).Select(d => $"{d.Path} ({d.Mode.ToString().ToLowerInvariant()})"))}; "
            + $"every open and execution there is answered within {prevention.Deadline.TotalMilliseconds:0} ms (on_timeout {prevention.OnTimeout.ToString().ToLowerInvariant()}"
            + $"{(prevention.HoldUnknownExec ? ", hold_unknown_exec" : "")})");
        return stage;
    }

    public async ValueTask DisposeAsync()
    {
        // The guard first: it answers what is still waiting and closes the group, so nothing stays blocked.
        _guard.Dispose();
        _alerts.Writer.TryComplete();
        await _pump;
    }

    // Internal for tests: the alerts from the guard into the host's queue, until the channel completes.
    internal static async Task PumpAsync(ChannelReader<EventMessage> reader, IEventSink sink, ILogger logger)
    {
        await foreach (var message in reader.ReadAllAsync())
        {
            try
            {
                await sink.PublishAsync(message, CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // One alert that cannot be queued must not stop the ones after it; it goes to the host's log, as a
                // running guard's own failures do.
                AlertNotQueued(logger, ex.Message, ex);
            }
        }
    }

    private static async Task UnavailableAsync(IReadOnlyList<string> problems, IEventSink sink, TextWriter output, CancellationToken cancellationToken)
    {
        foreach (var problem in problems)
        {
            await output.WriteLineAsync("vigil: WARNING: " + problem + " (rule 200805)");
        }

        var alert = new PreventionAlert(PreventionAlertKind.Unavailable, "none") { Detail = string.Join("; ", problems) };
        await sink.PublishAsync(PreventionMessages.Message(alert), cancellationToken);
    }
}
