using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;
using Vigil.Hosting;
using Vigil.Response.Execd;
using Vigil.Web.Index;

namespace Vigil.Manager;

/// <summary>One event taken for analysis, with what its host needs to commit and acknowledge it.</summary>
internal sealed record AnalysisItem(EventMessage Message, ulong Sequence, object? Origin = null)
{
    /// <summary>The agent's event this is, when it is one: what a store several managers share keys its alerts by.</summary>
    public AlertEventKey? Source { get; init; }
}

/// <summary>What an analysis batch decides beside its alerts, committed with them and carried out only then.</summary>
internal enum AnalysisEffectKind
{
    /// <summary>A lookup by the intelligence integration named by <see cref="AnalysisEffect.Target"/>.</summary>
    Lookup,

    /// <summary>An active response this host runs itself.</summary>
    LocalResponse,

    /// <summary>An active response for the agent <see cref="AnalysisEffect.Target"/>, sent over its channel.</summary>
    AgentResponse,
}

/// <summary>One side effect of an analysis batch (<see cref="Id"/> is its row once committed).</summary>
internal sealed record AnalysisEffect(AnalysisEffectKind Kind, string Target, string Name, string Json, DateTimeOffset Deadline)
{
    public long Id { get; init; }
}

/// <summary>
/// The host's side of the analysis loop: where events come from, which of them are new, and how a batch is committed
/// (the manager: agents' watermarks and acknowledgements in its registry; `vigil run`: its durable queue).
/// </summary>
internal interface IAnalysisCommitHook
{
    /// <summary>The side effects an earlier run committed and did not carry out (a crash).</summary>
    public IReadOnlyList<AnalysisEffect> Pending();

    /// <summary>The next batch of events (waits for one); null once the source has ended.</summary>
    public ValueTask<IReadOnlyList<AnalysisItem>?> ReadAsync(CancellationToken cancellationToken);

    /// <summary>Whether the event is to be analysed: false for a replay of one whose alert is already written.</summary>
    public bool Admit(AnalysisItem item);

    /// <summary>Where an active response the rules decided goes (none, here, or agents' outboxes).</summary>
    public void Route(ActiveResponseCommand command, List<AnalysisEffect> effects);

    /// <summary>
    /// Commits the batch once its alerts are durable: its progress, where the alert files end and its side effects,
    /// in one transaction; returns the side effects as committed (with their ids).
    /// </summary>
    public IReadOnlyList<AnalysisEffect> Commit(IReadOnlyList<AnalysisItem> batch, (long Json, long Log) alertEnds, IReadOnlyList<AnalysisEffect> effects);

    /// <summary>After the commit and the index: the producers may forget the batch's events.</summary>
    public void Acknowledge();

    /// <summary>A committed response for an agent: down to it when connected (else it waits in its outbox).</summary>
    public void Deliver(AnalysisEffect effect);

    /// <summary>A side effect carried out: its row goes.</summary>
    public void Complete(AnalysisEffect effect);

    /// <summary>A failure worth telling the operator (the manager's log, `vigil run`'s console).</summary>
    public void Report(string message);

    /// <summary>A failure's notice into the host's durable queue: analysed and committed at once, not with the next batch.</summary>
    public void Requeue(EventMessage notice);
}

/// <summary>
/// The analysis loop of `vigil manager` and `vigil run`: batches of events through the guarded pipeline, their alerts
/// written durably, then the batch committed (by the host's <see cref="IAnalysisCommitHook"/>), indexed, acknowledged,
/// and only then its side effects carried out: lookups in order here (an answer goes into the host's durable queue,
/// keyed by the effect, so a lookup is not queued twice), responses concurrently; each deleted once done. Whatever one
/// event does (a decoder or rule that throws, an integration or a route that fails), it is a dead letter and an alert,
/// and the loop goes on.
/// </summary>
internal sealed class AnalysisLoop(
    AnalysisGuard guard,
    AlertFileWriter writer,
    IntelFanOut intel,
    ExecDaemon execd,
    ResponseTasks responses,
    AlertIndexing? indexing,
    StageMonitor.Stage indexStage,
    IAnalysisCommitHook hook)
{
    private const int BatchSize = 4096;
    private long _alertCount;
    private AlertBatch? _written;

    // The loop's own stop: the responses it starts run until then.
    private CancellationToken _stopping;

    public const int MaxBatch = BatchSize;

    /// <summary>Where the agents' scan_progress messages are noted (the manager's status page), if anywhere.</summary>
    public AgentScans? AgentScans { get; init; }

    /// <summary>Where the agents' engine_status messages are kept (the Intelligence page), if anywhere.</summary>
    public AgentEngineReports? AgentEngines { get; init; }

    /// <summary>Alerts written so far.</summary>
    public long AlertCount => Interlocked.Read(ref _alertCount);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var _ = writer;
        _stopping = cancellationToken;
        _written = indexing?.NewBatch();
        try
        {
            // What a crash left committed but not carried out.
            await CarryOutAsync(hook.Pending(), cancellationToken);
            while (true)
            {
                guard.Stage.Idle();
                var batch = await hook.ReadAsync(cancellationToken);
                if (batch is null)
                {
                    break;
                }

                guard.Stage.Busy();
                var effects = new List<AnalysisEffect>();
                foreach (var item in batch)
                {
                    if (!hook.Admit(item))
                    {
                        continue;
                    }

                    AgentScans?.Observe(item.Message);
                    AgentEngines?.Observe(item.Message);

                    var result = guard.Process(item.Message, item.Sequence);
                    try
                    {
                        Decide(result, effects, item.Source);
                    }
                    catch (Exception ex)
                    {
                        Decide(guard.Failed("routing", item.Message, item.Sequence, ex), effects: null, item.Source);
                    }
                }

                // Alerts first, durably; then the commit with where the alert files end; only then may the producers
                // forget the events. A crash before the commit leaves alerts past the committed ends: the next start
                // cuts them and the events come again, so each still gives exactly one alert.
                writer.Flush(durable: true);
                var committed = hook.Commit(batch, writer.Ends, effects);

                // Indexed only once committed: alerts a restart would cut never reach the index.
                await IndexAsync(cancellationToken);
                hook.Acknowledge();
                await CarryOutAsync([.. committed.Where(e => e.Kind != AnalysisEffectKind.AgentResponse)], cancellationToken);
                foreach (var effect in committed.Where(e => e.Kind == AnalysisEffectKind.AgentResponse))
                {
                    hook.Deliver(effect);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    // An alert's side effects, decided in the batch and committed with it. A notice of a failure (effects null) is
    // written and indexed but decides nothing more, so it cannot fail again.
    private void Decide(AnalysisResult result, List<AnalysisEffect>? effects, AlertEventKey? source)
    {
        if (result.IsWritten)
        {
            Interlocked.Increment(ref _alertCount);
            _written?.Add(result.AlertUtf8!, AlertIndexing.FieldsOf(result, guard.Pipeline.Context), source);
            if (effects is null)
            {
                return;
            }

            foreach (var key in intel.Selecting(result.AlertJson!))
            {
                effects.Add(new AnalysisEffect(AnalysisEffectKind.Lookup, key, "", result.AlertJson!, DateTimeOffset.MaxValue));
            }
        }

        if (effects is not null)
        {
            foreach (var command in result.ActiveResponses)
            {
                hook.Route(command, effects);
            }
        }
    }

    // alerts.json holds the alerts whatever happens here: an index that fails takes them from there at the next start.
    private async Task IndexAsync(CancellationToken cancellationToken)
    {
        if (indexing is null || _written is null)
        {
            return;
        }

        try
        {
            indexStage.Busy();
            _written = await indexing.AddAsync(_written, writer.JsonEnd, cancellationToken);
            indexStage.Done();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            indexStage.Done(failed: true);
            hook.Report($"vigil: alerts could not be indexed (the index takes them from alerts.json at the next start): {DeadLetterStore.ReasonOf(ex)}");
            _written = indexing.NewBatch();
        }
        finally
        {
            indexStage.Idle();
        }
    }

    // Lookups in order, here; responses concurrently. Each is deleted once done: a crash before that does it again at
    // start (a lookup is then not queued twice, an answer is taken once by its key; a response runs again and finds
    // its file already handled). A lookup that throws is a dead letter, and its notice goes into the host's queue (analysed at once).
    private async Task CarryOutAsync(IReadOnlyList<AnalysisEffect> effects, CancellationToken cancellationToken)
    {
        foreach (var effect in effects)
        {
            if (effect.Kind == AnalysisEffectKind.LocalResponse)
            {
                _ = responses.Start(async () =>
                {
                    try
                    {
                        await execd.ExecuteAsync(effect.Json, _stopping);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        hook.Report(effect.Name.Length > 0
                            ? $"vigil: active response {effect.Name} could not be run here: {DeadLetterStore.ReasonOf(ex)}"
                            : $"vigil: an active response could not be run: {DeadLetterStore.ReasonOf(ex)}");
                    }

                    hook.Complete(effect);
                });
            }
            else if (effect.Kind == AnalysisEffectKind.Lookup && intel.Find(effect.Target) is { } service)
            {
                try
                {
                    await service.OnAlertAsync(effect.Json, $"effect:{effect.Id}", cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    var alert = new EventMessage(EventMessage.LocalFileQueue, "vigil-intel", effect.Json);
                    hook.Requeue(guard.Shelve("intelligence", alert, 0, ex));
                }

                hook.Complete(effect);
            }
            else
            {
                hook.Complete(effect); // an integration removed from the configuration since
            }
        }
    }
}
