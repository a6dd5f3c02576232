using Microsoft.Extensions.Logging;
using Vigil.Core.Configuration;
using Vigil.Fim;
using Vigil.Hosting;
using Vigil.Response.Execd;
using Vigil.Response.Quarantine;
using Vigil.Transport.Agent;

namespace Vigil.Agent;

/// <summary>Where `vigil agent` keeps things under its data directory.</summary>
internal sealed record AgentPaths(string Home, string Data)
{
    public string ActiveResponseLog => Response.Execd.ActiveResponseLog.PathInData(Data);

    public string Fim => Path.Combine(Data, "fim");

    public string Queue => DurableEventQueue.PathUnder(Data);

    /// <summary>A detection engine's store (its waiting files and verdict cache), by the engine block's key, where `vigil status` reads it.</summary>
    public string EngineDatabase(string key) => Path.Combine(Data, "intel", $"{key.Replace('#', '-')}.db");
}

/// <summary>
/// `vigil agent`: FIM and the active-response log feed the durable queue; the connection sends it to the manager and
/// runs the active responses the manager sends — execd takes commands from nowhere else.
/// </summary>
internal sealed class AgentHost(
    OssecConfig config,
    AgentCredentials credentials,
    AgentPaths paths,
    AgentConnectionOptions connectionOptions,
    ILoggerFactory loggers,
    TextWriter output,
    TimeProvider time) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ResponseTasks _responses = new();
    private DurableEventQueue? _queue;
    private FimService? _fim;
    private AgentEngines? _engines;
    private Task? _progress;
    private Task? _engineReports;
    private PreventionStage? _prevention;
    private Task? _background;
    private Task? _limits;
    private Task? _diskLoop;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Data);
        Directory.CreateDirectory(Path.GetDirectoryName(paths.ActiveResponseLog)!);
        var logger = loggers.CreateLogger("Vigil.Agent");
        _queue = new DurableEventQueue(paths.Queue, DurableEventQueue.DefaultCapacity, logger);
        var execd = ExecdFactory.Create(config, paths.Home, paths.Data, paths.ActiveResponseLog, time, loggers.CreateLogger("Vigil.Response"));
        var tailer = new ActiveResponseLogTailer(paths.ActiveResponseLog, _queue, time) { Position = new QueueTailPosition(_queue, "arlog"), Logger = loggers.CreateLogger("Vigil.Response") };
        tailer.Anchor(); // before any response runs
        var quarantine = QuarantineOperations.Local(paths.Data, paths.ActiveResponseLog, time);
        var connection = new AgentConnection(
            credentials,
            _queue,
            (response, token) => response.Name == QuarantineOperations.CommandName
                ? RunQuarantine(quarantine, response.Json, logger, token)
                : Run(execd, response.Json, logger, token),
            connectionOptions,
            logger,
            time);
        _background = Task.WhenAll(
            connection.RunAsync(_stopping.Token),
            execd.RunTimeoutLoopAsync(_stopping.Token),
            tailer.RunAsync(TimeSpan.FromMilliseconds(100), _stopping.Token));

        (_, _diskLoop) = DiskWatch.Start(config, paths.Data, _queue, output, time, _stopping.Token);
        // Engines on the agent's own files (docs/engines.md): FIM's file events go to them, their answers to the manager.
        _engines = AgentEngines.Start(config, _queue, paths.EngineDatabase, time, loggers.CreateLogger("Vigil.Engines"));
        _fim = new FimService(SyscheckOverrides.WithoutOwnFiles(config.Syscheck, paths.Data, paths.ActiveResponseLog), paths.Fim, _engines.Tap(_queue), time);
        _engines.AttachBaseline(_fim.Baseline);
        await _fim.StartAsync(cancellationToken);
        var fim = _fim;
        _progress = Task.Run(() => new ScanProgressReporter(() => fim.Status, _queue, time).RunAsync(_stopping.Token), CancellationToken.None);
        if (_engines.Engines.Count > 0)
        {
            var engines = _engines;
            _engineReports = Task.Run(() => new EngineStatusReporter(() => [.. engines.Engines.Select(e => (e.Key, e.Engine.Status()))], _queue, time).RunAsync(_stopping.Token), CancellationToken.None);
        }
        // On-access prevention (docs/prevention.md): the agent has no verdict cache, only the hash lists, and for a
        // held first execution its own YARA engines.
        var yara = _engines.Engines.Select(e => e.Engine.Engine).OfType<Vigil.Intel.Yara.YaraEngine>().ToList();
        _prevention = await PreventionStage.StartAsync(
            config, () => Vigil.Intel.Prevention.PreventionVerdicts.Create(config.Prevention, [], config.ResolvePath, time, yara), _queue, output, loggers.CreateLogger("Vigil.Prevention"), time, cancellationToken);
        var console = new FimConsole(_fim, config, output, time, FimConsole.IsTerminal);
        await console.ShowFirstScanAsync(cancellationToken);
        foreach (var directory in config.Syscheck.Directories)
        {
            await output.WriteLineAsync(WatchedDirectories.Describe(directory));
        }

        foreach (var line in console.Coverage())
        {
            await output.WriteLineAsync(line);
        }

        foreach (var line in _engines.Describe())
        {
            await output.WriteLineAsync(line);
        }

        _limits = Task.Run(() => console.WatchLimitsAsync(_stopping.Token), CancellationToken.None);

        await output.WriteLineAsync($"vigil: agent {credentials.Id} ({credentials.Name}) for manager {credentials.Manager}; queue {paths.Queue} ({_queue.Count} events waiting)");
        await output.WriteLineAsync("vigil: agent ready (Ctrl-C stops)");
    }

    // The dashboard's restore/delete, sent by the manager over this authenticated channel only; the outcome goes to
    // the active-response log (rules 200300/200301/200304), which the manager reads back.
    private Task RunQuarantine(QuarantineOperations quarantine, string json, ILogger logger, CancellationToken cancellationToken) =>
        _responses.Start(async () =>
        {
            var result = await quarantine.RunAsync(json, cancellationToken);
            AgentLog.QuarantineCommand(logger, result.Succeeded ? "done" : "failed", result.Message);
        });

    // execd writes each refusal to active-responses.log; the agent's own log says it too, where the operator looks.
    private Task Run(ExecDaemon execd, string json, ILogger logger, CancellationToken cancellationToken) =>
        _responses.Start(async () =>
        {
            var result = await execd.ExecuteAsync(json, cancellationToken);
            if (result.Outcome is ExecdOutcome.UnknownCommand or ExecdOutcome.Refused or ExecdOutcome.InvalidMessage)
            {
                AgentLog.ResponseRefused(logger, result.Outcome.ToString(), result.Error ?? "");
            }
        });

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        if (_prevention is not null)
        {
            await _prevention.DisposeAsync();
        }

        if (_fim is not null)
        {
            await _fim.DisposeAsync();
        }

        if (_engines is not null)
        {
            await _engines.DisposeAsync();
        }

        await _responses.WhenAllAsync();
        await _stopping.CancelAsync();
        await Task.WhenAll(_background ?? Task.CompletedTask, _limits ?? Task.CompletedTask, _diskLoop ?? Task.CompletedTask, _progress ?? Task.CompletedTask, _engineReports ?? Task.CompletedTask).ContinueWith(_ => { }, TaskScheduler.Default);
        _queue?.Dispose();
        _stopping.Dispose();
    }
}
