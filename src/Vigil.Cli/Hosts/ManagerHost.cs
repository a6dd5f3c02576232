using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Analysis.Rules;
using Vigil.Cli.Run;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Intel;
using Vigil.Response.Execd;
using Vigil.Transport;
using Vigil.Transport.Channel;
using Vigil.Transport.Registry;
using Vigil.Transport.Security;

namespace Vigil.Cli.Hosts;

/// <summary>One event on its way to analysis: from an agent (with its stream and sequence) or from the manager itself.</summary>
internal sealed record ManagerEvent(EventMessage Message, AgentSession? Session = null, ulong Sequence = 0);

/// <summary>
/// `vigil manager`: the transport server, analysis, alerts, intelligence and active-response routing. Agents' events
/// are acknowledged only once their alerts (or the decision that there is none) are durably written; a replayed
/// event (its sequence at or below the agent's stored watermark) is acknowledged again but not analysed twice.
/// The watermark is committed to SQLite right after the alerts are fsynced, with the alert files' ends; alerts written
/// past the committed ends (a crash between the two writes) are cut at the next start, and their events replayed.
/// </summary>
internal sealed class ManagerHost(
    OssecConfig config,
    RuleSet rules,
    AllInOnePaths paths,
    ManagerTransportOptions transportOptions,
    ILoggerFactory loggers,
    TextWriter output,
    TimeProvider time) : IAgentEventHandler, IAsyncDisposable
{
    // Two analysis batches: enough that analysis never waits for the network, few enough that events waiting here
    // do not pile up in the managed heap (beyond it they wait, unparsed, in the connections' flow-control windows).
    private readonly Channel<ManagerEvent> _events = Channel.CreateBounded<ManagerEvent>(new BoundedChannelOptions(8192)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    private readonly ConcurrentDictionary<string, ulong> _committed = new(StringComparer.Ordinal);
    private readonly List<IntelService> _intel = [];
    private readonly ResponseTasks _responses = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger = loggers.CreateLogger("Vigil.Manager");
    private AgentRegistry? _registry;
    private CertificateAuthority? _authority;
    private ManagerTransport? _transport;
    private ExecDaemon? _execd;
    private Task? _analysis;
    private Task? _background;
    private long _alertCount;

    public long AlertCount => Interlocked.Read(ref _alertCount);

    /// <summary>The alert index and live feed the dashboard reads; set before <see cref="StartAsync"/>, null for none.</summary>
    public AlertIndexing? Indexing { get; init; }

    internal AgentRegistry? Registry => _registry;

    internal ManagerTransport? Transport => _transport;

    internal IReadOnlyList<IntelService> IntelServices => _intel;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Data);
        Directory.CreateDirectory(Path.GetDirectoryName(paths.ActiveResponseLog)!);
        _registry = new AgentRegistry(AgentRegistry.PathUnder(paths.Data));
        foreach (var (agent, sequence) in _registry.Watermarks())
        {
            _committed[agent] = sequence;
        }

        _authority = CertificateAuthority.LoadOrCreate(Path.Combine(paths.Data, "ca"), time);
        var sink = new ManagerSink(_events.Writer);
        var committedEnds = _registry.CommittedAlertEnds();
        var writer = AlertFileWriter.Open(paths.Alerts, config.Global.JsonOutput, config.Global.AlertsLog, committedEnds);
        if (committedEnds is null)
        {
            _registry.SaveBatch(new Dictionary<string, ulong>(), writer.Ends);
        }

        if (writer.JsonPath is { } alertsJson)
        {
            Indexing?.CatchUp(alertsJson, writer.Ends.Json);
        }

        var pipeline = AnalysisFactory.Create(config, rules, writer, time);
        var index = 0;
        foreach (var integration in config.Integrations.Where(i => i.Name is "virustotal" or "custom-vigil-lists"))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(paths.IntelDatabase(index))!);
            var service = new IntelService(WatchedBinding.Bind(integration, rules), sink, paths.IntelDatabase(index++), time);
            service.Start();
            _intel.Add(service);
        }

        // The manager is agent 000: `server` responses, and `local` ones for its own alerts, run here.
        _execd = HostExecd.Create(config, paths.Home, paths.Data, paths.ActiveResponseLog, time);
        var tailer = new ActiveResponseLogTailer(paths.ActiveResponseLog, sink, time);
        _analysis = Task.Run(() => AnalyseAsync(pipeline, writer, _stopping.Token), CancellationToken.None);
        _background = Task.WhenAll(
            _execd.RunTimeoutLoopAsync(_stopping.Token),
            tailer.RunAsync(TimeSpan.FromMilliseconds(100), _stopping.Token));
        _transport = await ManagerTransport.StartAsync(transportOptions, _authority, _registry, this, loggers, time, cancellationToken);
        await output.WriteLineAsync($"vigil: manager on {config.SourcePath} ({rules.Rules.Count} rules)");
        await output.WriteLineAsync($"vigil: agents on {transportOptions.ListenAddress}:{transportOptions.AgentPort} (mutual TLS), enrollment on {transportOptions.ListenAddress}:{transportOptions.EnrollmentPort}");
        await output.WriteLineAsync($"vigil: CA {Path.Combine(paths.Data, "ca", "ca.crt")} (sha256 {Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(_authority.Certificate.RawData))})");
        foreach (var integration in config.Integrations.Where(i => i.Name is "virustotal" or "custom-vigil-lists"))
        {
            await output.WriteLineAsync(WatchedBinding.Describe(integration, rules));
        }

        await output.WriteLineAsync($"vigil: alerts in {paths.Alerts}/alerts.json and alerts.log");
        await output.WriteLineAsync("vigil: manager ready (Ctrl-C stops)");
    }

    public async ValueTask<ulong> OnConnectedAsync(AgentSession session, CancellationToken cancellationToken)
    {
        await InjectAsync($"vigil: Agent connected: {session.Id} ({session.Identity.Name})", cancellationToken);
        return _committed.GetValueOrDefault(session.Id);
    }

    public ValueTask OnEventAsync(AgentSession session, ulong sequence, EventMessage message, CancellationToken cancellationToken) =>
        _events.Writer.WriteAsync(new ManagerEvent(message, session, sequence), cancellationToken);

    public ValueTask OnDisconnectedAsync(AgentSession session, CancellationToken cancellationToken) =>
        InjectAsync($"vigil: Agent disconnected: {session.Id} ({session.Identity.Name})", cancellationToken);

    // A connection notice is an event like an agent's: it waits for room in the queue rather than being dropped when
    // the queue is full. Only a stopping manager (or a connection torn down meanwhile) goes without it.
    private async ValueTask InjectAsync(string message, CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        var notice = new ManagerEvent(new EventMessage(EventMessage.LocalFileQueue, "vigil-remoted", message));
        if (_events.Writer.TryWrite(notice))
        {
            return;
        }

        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
            await _events.Writer.WriteAsync(notice, linked.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or ChannelClosedException)
        {
        }
    }

    private async Task AnalyseAsync(AnalysisPipeline pipeline, AlertFileWriter writer, CancellationToken cancellationToken)
    {
        using var _ = writer;
        var reader = _events.Reader;
        var processed = new Dictionary<string, ulong>(_committed, StringComparer.Ordinal);
        var written = Indexing?.NewBatch();
        var committedEnds = writer.Ends;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                var acknowledgements = new Dictionary<AgentSession, ulong>();
                var watermarks = new Dictionary<string, ulong>(StringComparer.Ordinal);
                var count = 0;
                while (count++ < 4096 && reader.TryRead(out var item))
                {
                    if (item.Session is { } session)
                    {
                        acknowledgements[session] = Math.Max(acknowledgements.GetValueOrDefault(session), item.Sequence);
                        if (item.Sequence <= processed.GetValueOrDefault(session.Id))
                        {
                            continue; // A replay of an event whose alert is already written.
                        }

                        processed[session.Id] = item.Sequence;
                        watermarks[session.Id] = item.Sequence;
                    }

                    var result = pipeline.Process(item.Message);
                    if (result.IsWritten)
                    {
                        Interlocked.Increment(ref _alertCount);
                        written?.Add(result.AlertUtf8!, AlertIndexing.FieldsOf(result, pipeline.Context));

                        foreach (var intel in _intel)
                        {
                            await intel.OnAlertAsync(result.AlertJson!, cancellationToken);
                        }
                    }

                    foreach (var command in result.ActiveResponses)
                    {
                        Route(command);
                    }
                }

                // Alerts first, durably; then the watermarks with where the alert files end; only then may agents
                // forget the events. A crash before the commit leaves alerts past the committed ends: the next start
                // cuts them and the agents replay their events, so each still gives exactly one alert.
                writer.Flush(durable: true);
                var ends = writer.Ends;
                if (watermarks.Count > 0 || ends != committedEnds)
                {
                    _registry!.SaveBatch(watermarks, ends);
                    committedEnds = ends;
                    foreach (var (agent, sequence) in watermarks)
                    {
                        _committed[agent] = sequence;
                    }
                }

                // Indexed only once committed: alerts a restart would cut (and the agents replay) never reach the index.
                if (Indexing is not null && written is not null)
                {
                    written = await Indexing.AddAsync(written, writer.JsonEnd, cancellationToken);
                }

                foreach (var (session, sequence) in acknowledgements)
                {
                    session.TryAcknowledge(sequence);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    // Wazuh's routing (spec §5.3): server → the manager; local → the agent the alert came from (the manager for its
    // own alerts); defined-agent → the configured agent; all → every connected agent. An agent that is not connected
    // does not get the response (Wazuh drops it too); the log says so.
    private void Route(ActiveResponseCommand command)
    {
        var target = command.Location == ActiveResponseLocations.Server ? "000" : command.TargetAgentId;
        if (target is "000" or "")
        {
            RunHere(command);
            return;
        }

        var sessions = target == ActiveResponseCommand.AllAgents
            ? _transport!.Sessions.All
            : _transport!.Sessions.Find(target) is { } one ? [one] : [];
        if (sessions.Count == 0)
        {
            ManagerLog.ResponseNotDelivered(_logger, command.Name, target);
        }

        foreach (var session in sessions)
        {
            session.TrySendActiveResponse(command.Name, command.Json);
            ManagerLog.ResponseSent(_logger, command.Name, session.Id, session.Identity.Name);
        }
    }

    private void RunHere(ActiveResponseCommand command)
    {
        _responses.Start(() => _execd!.ExecuteAsync(command.Json, _stopping.Token));
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        if (_transport is not null)
        {
            await _transport.DisposeAsync();
        }

        await _responses.WhenAllAsync();
        foreach (var intel in _intel)
        {
            await intel.DisposeAsync();
        }

        await HostLifetime.DrainAsync(_events.Reader, time);

        await _stopping.CancelAsync();
        await Task.WhenAll(_analysis ?? Task.CompletedTask, _background ?? Task.CompletedTask).ContinueWith(_ => { }, TaskScheduler.Default);
        _registry?.Dispose();
        _authority?.Dispose();
        _stopping.Dispose();
    }

    private sealed class ManagerSink(ChannelWriter<ManagerEvent> writer) : IEventSink
    {
        public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken) =>
            writer.WriteAsync(new ManagerEvent(message), cancellationToken);
    }
}

internal static partial class ManagerLog
{
    [LoggerMessage(6100, LogLevel.Information, "Active response {Command} sent to agent {AgentId} ({AgentName})")]
    public static partial void ResponseSent(ILogger logger, string command, string agentId, string agentName);

    [LoggerMessage(6101, LogLevel.Warning, "Active response {Command} for agent {AgentId} not delivered: the agent is not connected")]
    public static partial void ResponseNotDelivered(ILogger logger, string command, string agentId);
}
