using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;
using Vigil.Fim;
using Vigil.Hosting;
using Vigil.Response.Execd;
using Vigil.Transport.Agent;

namespace Vigil.Manager;

/// <summary>Where `vigil run` keeps things.</summary>
internal sealed record AllInOnePaths(string Home, string Data)
{
    public string Alerts => Path.Combine(Data, "logs", "alerts");

    public string ActiveResponseLog => Response.Execd.ActiveResponseLog.PathInData(Data);

    public string Fim => Path.Combine(Data, "fim");

    public string IntelDatabase(int index) => Path.Combine(Data, "intel", index == 0 ? "intel.db" : $"intel-{index}.db");

    public string Quarantine => Path.Combine(Data, "quarantine");

    /// <summary>A detection engine's store (its waiting files and verdict cache), by the engine block's key.</summary>
    public string EngineDatabase(string key) => Path.Combine(Data, "intel", $"{key.Replace('#', '-')}.db");

    /// <summary>`vigil run`'s durable queue in front of analysis (FIM, intelligence and the AR log publish into it).</summary>
    public string Queue => Path.Combine(Data, "queue", "events.db");
}

/// <summary>
/// Agent and manager in one process (the embedded default): FIM → analysis → alerts → intelligence → analysis →
/// active response → AR log → analysis, all through one durable queue (the agent's, in SQLite). No network, no ports.
/// Exactly once across a crash, as on the manager: a producer's event is in the queue before the producer forgets it
/// (FIM deletes its outbox row, intelligence its lookup, the AR log's position moves on), keyed so that one re-sent
/// after a crash is taken once; analysis writes a batch's alerts durably, then in one transaction deletes the batch's
/// events, records where the alert files end and queues the side effects the batch decided (lookups, responses);
/// only then are those carried out, each deleted once done. At start, alerts past the recorded ends (a crash before
/// the commit) are cut and their events analysed again, and side effects still queued are carried out.
/// </summary>
internal sealed class AllInOneHost(OssecConfig config, RuleSet rules, AllInOnePaths paths, TextWriter output, TimeProvider time)
{
    private const string ResponseEffect = "ar";
    private const string IntelEffect = "intel:";

    private DurableEventQueue? _queue;

    private IntelFanOut _intel = IntelFanOut.None;
    private readonly ResponseTasks _responses = new();
    private FimService? _fim;
    private ExecDaemon? _execd;
    private ActiveResponseLogTailer? _tailer;
    private Task? _analysis;
    private FimConsole? _console;

    /// <summary>The host's loggers: the stages log through them.</summary>
    public ILoggerFactory Loggers { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Alerts written so far (for tests and the summary line at exit).</summary>
    public long AlertCount => _loop?.AlertCount ?? 0;

    private AnalysisLoop? _loop;

    private TimeProvider Time => time;

    private TextWriter Output => output;

    internal IntelFanOut Intel => _intel;

    /// <summary>The stages /api/health reports on.</summary>
    public StageMonitor Stages { get; } = new(time);

    /// <summary>Events a stage could not handle (null before the start).</summary>
    public DeadLetterStore? DeadLetters { get; private set; }

    /// <summary>The alert index and live feed the dashboard reads; set before the start, null for none.</summary>
    public AlertIndexing? Indexing { get; init; }

    /// <summary>
    /// The stages up to detection running, in their start order, for <see cref="VigilHost"/>, which stops them in the
    /// reverse order: prevention and FIM first (nothing new is produced), then the drain (the responses under way
    /// end, and analysis takes what FIM and the responses produced, briefly: the stop must be quick), the loops, the
    /// responses they started, and last intelligence and the queue (analysis carries out lookups, so it stops before
    /// intelligence goes; what is left stays in the durable queue for the next start). <see cref="ReadyServices"/>
    /// come after the dashboard.
    /// </summary>
    public IReadOnlyList<IHostedService> Services() =>
    [
        VigilHost.Stage(OpenAsync, CloseAsync),
        VigilHost.OnStop(_responses.WhenAllAsync),
        VigilHost.Loop("analysis-loop", token => _analysis = _loop!.RunAsync(token), Stages),
        VigilHost.Loop("execd", token => _execd!.RunTimeoutLoopAsync(token), Stages),
        VigilHost.Loop("ar-log-tailer", token => _tailer!.RunAsync(TimeSpan.FromMilliseconds(100), token), Stages),
        VigilHost.Loop("disk", token => DiskWatch.RunAsync(_disk!, config, _queue!.PublishAsync, output, token)),
        VigilHost.OnStop(DrainAsync),
        VigilHost.Stage(StartFimAsync, async () =>
        {
            if (_fim is not null)
            {
                await _fim.DisposeAsync();
            }
        }),
        VigilHost.Stage(StartPreventionAsync, async () =>
        {
            if (Prevention is not null)
            {
                await Prevention.DisposeAsync();
            }
        }),
    ];

    /// <summary>The first scan and the banner (<see cref="WaitUntilReadyAsync"/>), then the watch on FIM's limits.</summary>
    public IReadOnlyList<IHostedService> ReadyServices() =>
    [
        VigilHost.Stage(WaitUntilReadyAsync, () => Task.CompletedTask),
        VigilHost.Loop("fim-limits", token => _console!.WatchLimitsAsync(token)),
    ];

    // The queue, analysis, intelligence and execd, ready for the loops.
    private async Task OpenAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Data);
        Directory.CreateDirectory(Path.GetDirectoryName(paths.ActiveResponseLog)!);

        // Large: a full queue drops new events (rule 200402), which `vigil run` should never need to do.
        _queue = new DurableEventQueue(paths.Queue, capacity: 10 * DurableEventQueue.DefaultCapacity);
        var sink = _queue;
        var committedEnds = _queue.CommittedAlertEnds();
        var writer = AlertFileWriter.Open(paths.Alerts, config.Global.JsonOutput, config.Global.AlertsLog, committedEnds);
        if (writer.RepairedBytes > 0)
        {
            await output.WriteLineAsync($"vigil: cut {writer.RepairedBytes} bytes of alerts in {paths.Alerts} that an earlier crash left uncommitted (their events are analysed again)");
        }

        if (committedEnds is null)
        {
            _queue.Commit(0, writer.Ends, []);
        }

        if (writer.JsonPath is { } alertsJson)
        {
            Indexing?.CatchUp(alertsJson, writer.Ends.Json);
        }

        var pipeline = AnalysisFactory.Create(config, rules, writer, time);
        DeadLetters = new DeadLetterStore(DeadLetterStore.PathUnder(paths.Data), time);
        var analysisLogger = Loggers.CreateLogger("Vigil.Manager");
        var guard = new AnalysisGuard(pipeline, DeadLetters, Stages.Register("analysis"), m => ManagerLog.EventFailed(analysisLogger, m));

        _intel = IntelFanOut.Start(config, rules, sink, paths.IntelDatabase, time, Loggers);
        _intel.StartEngines(config, rules, sink, paths.EngineDatabase, time, Loggers);
        _execd = ExecdFactory.Create(config, paths.Home, paths.Data, paths.ActiveResponseLog, time, Loggers.CreateLogger("Vigil.Response"));

        // The AR log goes back into the pipeline as logcollector sends it to Wazuh (so 657/100092/100093 fire),
        // whichever program wrote the line: Vigil's remove-threat or the seed's remove-threat.sh.
        _tailer = new ActiveResponseLogTailer(paths.ActiveResponseLog, sink, time) { Position = new QueueTailPosition(_queue, "arlog"), Logger = Loggers.CreateLogger("Vigil.Response") };
        _tailer.Anchor(); // before the loop carries out responses queued before a crash
        _loop = new AnalysisLoop(guard, writer, _intel, _execd, _responses, Indexing, Stages.Register("index"), new QueueCommit(this, _queue));
        _disk = DiskWatch.Monitor(config, paths.Data, time);
    }

    private async Task StartFimAsync(CancellationToken cancellationToken)
    {
        _fim = new FimService(SyscheckOverrides.WithoutOwnFiles(config.Syscheck, paths.Data, paths.ActiveResponseLog), paths.Fim, _queue!, time);
        _intel.AttachBaseline(_fim.Baseline);
        await _fim.StartAsync(cancellationToken);
    }

    private async Task StartPreventionAsync(CancellationToken cancellationToken)
    {
        var sink = _queue!;

        // On-access prevention (docs/prevention.md): the hash lists and the verdict caches of the intelligence above,
        // and for a held first execution the YARA engines.
        var intel = _intel;
        var yara = intel.Engines.Select(e => e.Engine.Engine).OfType<Vigil.Intel.Yara.YaraEngine>().ToList();
        Prevention = await PreventionStage.StartAsync(
            config, () => Vigil.Intel.Prevention.PreventionVerdicts.Create(config.Prevention, intel.Services, config.ResolvePath, time, yara), sink, output, Loggers.CreateLogger("Vigil.Prevention"), time, cancellationToken);
    }

    /// <summary>The fanotify guard, or null when no directory asks for prevention or it cannot run.</summary>
    internal PreventionStage? Prevention { get; private set; }

    private Vigil.Core.Diagnostics.DiskSpaceMonitor? _disk;

    /// <summary>What this host covers now (/api/status): the scan under way, the limits reached.</summary>
    public Vigil.Web.Api.HostCoverage Coverage() => CoverageReport.Live("000", Environment.MachineName, config, _fim?.Status, _disk?.Last);

    /// <summary>
    /// Waits for the first scan, showing its progress and the limits it reaches, then prints the banner: what is and
    /// is not covered. The realtime watches are in place before the scan starts, and what they see during it is
    /// reported; the scan's own findings on a first run are the baseline (as in Wazuh).
    /// </summary>
    public async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var console = new FimConsole(_fim!, config, output, time, IsTerminal);
        await console.ShowFirstScanAsync(cancellationToken);
        await output.WriteAsync(Banner(console));
        _console = console;
    }

    /// <summary>Whether progress may rewrite one console line (set false for tests that read the output).</summary>
    public bool IsTerminal { get; init; }

    // `vigil run`'s side of the analysis loop: its one durable queue is the source, and a batch's commit deletes the
    // batch's events, records where the alert files end and queues its side effects, in one transaction.
    private sealed class QueueCommit(AllInOneHost host, DurableEventQueue queue) : IAnalysisCommitHook
    {
        private ulong _last;

        public IReadOnlyList<AnalysisEffect> Pending() => [.. queue.PendingEffects().Select(ToEffect)];

        public async ValueTask<IReadOnlyList<AnalysisItem>?> ReadAsync(CancellationToken cancellationToken)
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var changed = queue.Changed;
                var batch = queue.ReadAfter(_last, AnalysisLoop.MaxBatch);
                if (batch.Count > 0)
                {
                    return [.. batch.Select(e => new AnalysisItem(e.Message, e.Sequence))];
                }

                await changed.WaitAsync(TimeSpan.FromSeconds(1), host.Time, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            return null;
        }

        public bool Admit(AnalysisItem item) => true;

        // In one process this host is agent 000 and every agent: each response runs here, concurrently.
        public void Route(ActiveResponseCommand command, List<AnalysisEffect> effects)
        {
            if (command.Location == ActiveResponseLocations.DefinedAgent && command.TargetAgentId is not ("000" or "001"))
            {
                host.Output.WriteLine($"vigil: active response {command.Name} is for agent {command.TargetAgentId}, which does not exist in `vigil run`; skipped");
                return;
            }

            effects.Add(new AnalysisEffect(AnalysisEffectKind.LocalResponse, "", "", command.Json, DateTimeOffset.MaxValue));
        }

        public IReadOnlyList<AnalysisEffect> Commit(IReadOnlyList<AnalysisItem> batch, (long Json, long Log) alertEnds, IReadOnlyList<AnalysisEffect> effects)
        {
            _last = batch[^1].Sequence;
            var rows = effects.Select(e => e.Kind == AnalysisEffectKind.Lookup ? (IntelEffect + e.Target, e.Json) : (ResponseEffect, e.Json)).ToList();
            return [.. queue.Commit(_last, alertEnds, rows).Select(ToEffect)];
        }

        public void Acknowledge()
        {
        }

        public void Deliver(AnalysisEffect effect)
        {
        }

        public void Complete(AnalysisEffect effect) => queue.CompleteEffect(effect.Id);

        public void Report(string message) => host.Output.WriteLine(message);

        public void Requeue(EventMessage notice) => queue.Enqueue(notice);

        private static AnalysisEffect ToEffect(PendingEffect effect) =>
            effect.Kind == ResponseEffect
                ? new AnalysisEffect(AnalysisEffectKind.LocalResponse, "", "", effect.Payload, DateTimeOffset.MaxValue) { Id = effect.Id }
                : effect.Kind.StartsWith(IntelEffect, StringComparison.Ordinal)
                    ? new AnalysisEffect(AnalysisEffectKind.Lookup, effect.Kind[IntelEffect.Length..], "", effect.Payload, DateTimeOffset.MaxValue) { Id = effect.Id }
                    : new AnalysisEffect(AnalysisEffectKind.Lookup, "", effect.Kind, effect.Payload, DateTimeOffset.MaxValue) { Id = effect.Id };
    }

    private string Banner(FimConsole console)
    {
        var text = new StringWriter();
        var syscheck = config.Syscheck;
        text.WriteLine($"vigil: running on {config.SourcePath} ({rules.Rules.Count} rules)");
        if (syscheck.Disabled || syscheck.Directories.Count == 0)
        {
            text.WriteLine("vigil: file integrity monitoring is off");
        }

        foreach (var directory in syscheck.Directories)
        {
            text.WriteLine(WatchedDirectories.Describe(directory, syscheck));
        }

        foreach (var integration in IntelFanOut.Integrations(config))
        {
            text.WriteLine(WatchedBinding.Describe(integration, rules));
        }

        foreach (var (key, engine) in _intel.Engines)
        {
            var status = engine.Status();
            text.WriteLine($"vigil: engine {key}: {status.Name} {(status.Version is { } v ? $"version {v}" : "(not ready)")}{(status.Problem is { } p ? $"; {p}" : "")}");
        }

        foreach (var ar in config.ActiveResponses)
        {
            text.WriteLine($"vigil: active response {ar.Command} on rules {(ar.RulesId.Count > 0 ? string.Join(",", ar.RulesId) : "-")}{(ar.Level is { } l ? $", level >= {l}" : "")}{(ar.RulesGroup is { } g ? $", group {g}" : "")}");
        }

        foreach (var line in console.Coverage())
        {
            text.WriteLine(line);
        }

        text.WriteLine($"vigil: alerts in {paths.Alerts}/alerts.json and alerts.log");
        text.WriteLine($"vigil: active-response log {paths.ActiveResponseLog}; quarantine under {paths.Data}");
        text.WriteLine("vigil: ready (Ctrl-C stops)");
        return text.ToString();
    }

    // Before the loops stop: the responses under way end, and analysis takes what FIM and the responses produced, for
    // up to a second.
    private async Task DrainAsync()
    {
        await _responses.WhenAllAsync();
        var deadline = time.GetUtcNow().AddSeconds(1);
        while (_queue is { Count: > 0 } && _analysis is { IsCompleted: false } && time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), time);
        }
    }

    // Last, once analysis has stopped: intelligence (analysis carried out its lookups), then the queue.
    private async Task CloseAsync()
    {
        await _intel.DisposeAsync();
        _queue?.Dispose();
        DeadLetters?.Dispose();
    }
}
