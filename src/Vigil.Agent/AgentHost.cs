using Microsoft.Extensions.Hosting;
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
    TimeProvider time)
{
    private readonly ResponseTasks _responses = new();
    private DurableEventQueue? _queue;
    private ExecDaemon? _execd;
    private ActiveResponseLogTailer? _tailer;
    private AgentConnection? _connection;
    private FimService? _fim;
    private AgentEngines? _engines;
    private PreventionStage? _prevention;
    private FimConsole? _console;

    /// <summary>
    /// The agent's stages in their start order, for <see cref="VigilHost"/>, which stops them in the reverse order:
    /// prevention, FIM and the engines first (nothing new is produced), then the responses under way end, then the
    /// loops (the connection, execd, the AR log), and last the queue, which keeps what was not sent.
    /// </summary>
    public IReadOnlyList<IHostedService> Services()
    {
        var disk = DiskWatch.Monitor(config, paths.Data, time);
        return
        [
            VigilHost.Stage(OpenAsync, () =>
            {
                _queue?.Dispose();
                return Task.CompletedTask;
            }),
            VigilHost.Loop("connection", token => _connection!.RunAsync(token)),
            VigilHost.Loop("execd", token => _execd!.RunTimeoutLoopAsync(token)),
            VigilHost.Loop("ar-log-tailer", token => _tailer!.RunAsync(TimeSpan.FromMilliseconds(100), token)),
            VigilHost.Loop("disk", token => DiskWatch.RunAsync(disk, config, _queue!.PublishAsync, output, token)),
            VigilHost.OnStop(_responses.WhenAllAsync),

            // Engines on the agent's own files (docs/engines.md): FIM's file events go to them, their answers to the manager.
            VigilHost.Stage(
                _ =>
                {
                    _engines = AgentEngines.Start(config, _queue!, paths.EngineDatabase, time, loggers.CreateLogger("Vigil.Engines"));
                    return Task.CompletedTask;
                },
                async () =>
                {
                    if (_engines is not null)
                    {
                        await _engines.DisposeAsync();
                    }
                }),
            VigilHost.Stage(StartFimAsync, async () =>
            {
                if (_fim is not null)
                {
                    await _fim.DisposeAsync();
                }
            }),
            VigilHost.Loop("scan-progress", token => new ScanProgressReporter(() => _fim!.Status, _queue!, time).RunAsync(token)),
            VigilHost.Loop("engine-status", token => _engines!.Engines.Count == 0
                ? Task.CompletedTask
                : new EngineStatusReporter(() => [.. _engines.Engines.Select(e => (e.Key, e.Engine.Status()))], _queue!, time).RunAsync(token)),
            VigilHost.Stage(StartPreventionAsync, async () =>
            {
                if (_prevention is not null)
                {
                    await _prevention.DisposeAsync();
                }
            }),
            VigilHost.Stage(ShowFirstScanAsync, () => Task.CompletedTask),
            VigilHost.Loop("fim-limits", token => _console!.WatchLimitsAsync(token)),
            VigilHost.Stage(
                async _ =>
                {
                    await output.WriteLineAsync($"vigil: agent {credentials.Id} ({credentials.Name}) for manager {credentials.Manager}; queue {paths.Queue} ({_queue!.Count} events waiting)");
                    await output.WriteLineAsync("vigil: agent ready (Ctrl-C stops)");
                },
                () => Task.CompletedTask),
        ];
    }

    // The queue, execd, the AR log and the connection to the manager, ready for their loops.
    private Task OpenAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Data);
        Directory.CreateDirectory(Path.GetDirectoryName(paths.ActiveResponseLog)!);
        var logger = loggers.CreateLogger("Vigil.Agent");
        _queue = new DurableEventQueue(paths.Queue, DurableEventQueue.DefaultCapacity, logger);
        var execd = ExecdFactory.Create(config, paths.Home, paths.Data, paths.ActiveResponseLog, time, loggers.CreateLogger("Vigil.Response"));
        _execd = execd;
        _tailer = new ActiveResponseLogTailer(paths.ActiveResponseLog, _queue, time) { Position = new QueueTailPosition(_queue, "arlog"), Logger = loggers.CreateLogger("Vigil.Response") };
        _tailer.Anchor(); // before any response runs
        var quarantine = QuarantineOperations.Local(paths.Data, paths.ActiveResponseLog, time);
        _connection = new AgentConnection(
            credentials,
            _queue,
            (response, token) => response.Name == QuarantineOperations.CommandName
                ? RunQuarantine(quarantine, response.Json, logger, token)
                : Run(execd, response.Json, logger, token),
            connectionOptions,
            logger,
            time);
        return Task.CompletedTask;
    }

    private async Task StartFimAsync(CancellationToken cancellationToken)
    {
        _fim = new FimService(SyscheckOverrides.WithoutOwnFiles(config.Syscheck, paths.Data, paths.ActiveResponseLog), paths.Fim, _engines!.Tap(_queue!), time);
        _engines.AttachBaseline(_fim.Baseline);
        await _fim.StartAsync(cancellationToken);
    }

    // On-access prevention (docs/prevention.md): the agent has no verdict cache, only the hash lists, and for a held
    // first execution its own YARA engines.
    private async Task StartPreventionAsync(CancellationToken cancellationToken)
    {
        var yara = _engines!.Engines.Select(e => e.Engine.Engine).OfType<Vigil.Intel.Yara.YaraEngine>().ToList();
        _prevention = await PreventionStage.StartAsync(
            config, () => Vigil.Intel.Prevention.PreventionVerdicts.Create(config.Prevention, [], config.ResolvePath, time, yara), _queue!, output, loggers.CreateLogger("Vigil.Prevention"), time, cancellationToken);
    }

    private async Task ShowFirstScanAsync(CancellationToken cancellationToken)
    {
        var console = new FimConsole(_fim!, config, output, time, FimConsole.IsTerminal);
        await console.ShowFirstScanAsync(cancellationToken);
        foreach (var directory in config.Syscheck.Directories)
        {
            await output.WriteLineAsync(WatchedDirectories.Describe(directory, config.Syscheck));
        }

        foreach (var line in console.Coverage())
        {
            await output.WriteLineAsync(line);
        }

        foreach (var line in _engines!.Describe())
        {
            await output.WriteLineAsync(line);
        }

        _console = console;
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
}
