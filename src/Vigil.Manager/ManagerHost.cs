using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;
using Vigil.Hosting;
using Vigil.Manager.Routing;
using Vigil.Response.Execd;
using Vigil.Storage.Postgres;
using Vigil.Storage.Postgres.Responses;
using Vigil.Transport;
using Vigil.Transport.Agent;
using Vigil.Transport.Channel;
using Vigil.Transport.Registry;
using Vigil.Transport.Security;
using Vigil.Web.Index;

namespace Vigil.Manager;

/// <summary>One event on its way to analysis: from an agent (with its stream and sequence) or from the manager itself.</summary>
internal sealed record ManagerEvent(EventMessage Message, AgentSession? Session = null, ulong Sequence = 0)
{
    /// <summary>From the manager's own durable queue (intelligence, the AR log): <see cref="Sequence"/> is its sequence there.</summary>
    public bool IsLocal { get; init; }
}

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
    TimeProvider time) : IAgentEventHandler
{
    // Two analysis batches: enough that analysis never waits for the network, few enough that events waiting here
    // do not pile up in the managed heap (beyond it they wait, unparsed, in the connections' flow-control windows).
    private readonly Channel<ManagerEvent> _events = Channel.CreateBounded<ManagerEvent>(new BoundedChannelOptions(8192)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    private readonly ConcurrentDictionary<string, ulong> _committed = new(StringComparer.Ordinal);
    private IntelFanOut _intel = IntelFanOut.None;
    private readonly ResponseTasks _responses = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger = loggers.CreateLogger("Vigil.Manager");
    // The manager's own producers (intelligence, its AR log) publish here, durably, as an agent does; analysis
    // commits their progress as agent 000's watermark, and the lookups and responses it decides for the manager
    // itself as outbox rows of pseudo-agents, so a crash repeats or loses none of them.
    private const string LocalAgent = "000";
    private const string IntelEffects = "intel:";
    private DurableEventQueue? _local;
    private AgentRegistry? _registry;
    private IAgentDirectory? _directory;
    private PostgresAgentDirectory? _sharedAgents;
    private PostgresSharedIntel? _sharedIntel;
    private PostgresResponseRouting? _routing;
    private ResponseRouter? _router;
    private CertificateAuthority? _authority;
    private ManagerTransport? _transport;
    private ExecDaemon? _execd;
    private ActiveResponseLogTailer? _tailer;
    private AnalysisLoop? _loop;
    private string _caOrigin = "";
    private DeadLetterStore? _deadLetters;

    public long AlertCount => _loop?.AlertCount ?? 0;

    private TimeProvider Time => time;

    /// <summary>How long an active response waits in an agent's outbox for the agent to carry it out before an alert (200403) says it was not delivered.</summary>
    public TimeSpan ResponseDeadline { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The alert index and live feed the dashboard reads; set before the start, null for none.</summary>
    public AlertIndexing? Indexing { get; init; }

    internal IAgentDirectory? Registry => _directory;

    /// <summary>The PostgreSQL this manager shares with others (registry, CA, watermarks); null for this manager alone.</summary>
    public SharedStores? Shared { get; init; }

    internal ManagerTransport? Transport => _transport;

    internal IntelFanOut Intel => _intel;

    /// <summary>The stages /api/health and the systemd watchdog report on.</summary>
    public StageMonitor Stages { get; } = new(time);

    /// <summary>The agents' full scans as they report them (for /api/status).</summary>
    public AgentScans AgentScans { get; } = new(time);

    /// <summary>The agents' detection engines as they report them (for /api/engines), kept under the data directory.</summary>
    public AgentEngineReports AgentEngines { get; } = new(AgentEngineReports.PathUnder(paths.Data), time);

    /// <summary>Events a stage could not handle (null before the start).</summary>
    public DeadLetterStore? DeadLetters => _deadLetters;

    /// <summary>
    /// The manager's stages in their start order, for <see cref="VigilHost"/>, which stops them in the reverse order:
    /// the transport first (no agent's event comes in after it), then the drain (the responses under way end, and
    /// analysis takes what the agents left in its channel), the loops, the responses they started, and last the stores
    /// and intelligence (analysis carries out lookups, so it stops before intelligence goes; the local queue keeps what
    /// is left).
    /// </summary>
    public IReadOnlyList<IHostedService> Services()
    {
        var disk = DiskWatch.Monitor(config, paths.Data, time);
        List<IHostedService> services =
        [
            VigilHost.Stage(OpenAsync, CloseAsync),
            VigilHost.OnStop(_responses.WhenAllAsync),
            VigilHost.Loop("analysis-loop", token => _loop!.RunAsync(token), Stages),
            VigilHost.Loop("local-queue", PumpLocalAsync, Stages),
            VigilHost.Loop("execd", token => _execd!.RunTimeoutLoopAsync(token), Stages),
            VigilHost.Loop("ar-log-tailer", token => _tailer!.RunAsync(TimeSpan.FromMilliseconds(100), token), Stages),
            VigilHost.Loop("response-expiry", ExpireResponsesAsync, Stages),
            VigilHost.Loop("disk", token => DiskWatch.RunAsync(disk, config, (message, t) => InjectAsync(message.Message, t), output, token)),
        ];
        if (Shared is not null)
        {
            // Active responses for agents on other managers go through the shared database (see ResponseRouter).
            services.Add(VigilHost.Loop("response-routing", token => _router!.RunAsync(token), Stages));
        }

        services.Add(VigilHost.OnStop(DrainAsync));
        services.Add(VigilHost.Stage(StartTransportAsync, StopTransportAsync));
        return services;
    }

    // The stores, analysis, intelligence and execd, ready for the loops.
    private async Task OpenAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Data);
        Directory.CreateDirectory(Path.GetDirectoryName(paths.ActiveResponseLog)!);
        _registry = new AgentRegistry(AgentRegistry.PathUnder(paths.Data));
        foreach (var (agent, sequence) in _registry.Watermarks())
        {
            _committed[agent] = sequence;
        }

        _directory = _registry;
        var caOrigin = "";
        if (Shared is { } shared)
        {
            _sharedAgents = new PostgresAgentDirectory(shared.Database, shared.ManagerName, loggers.CreateLogger("Vigil.Storage.Postgres"));
            _directory = _sharedAgents;

            // Killed after its shared commit and before its own: finish the local one (the others count it as done).
            if (_sharedAgents.LastCommit() is { } last
                && SharedCommit.Decode(last.Payload) is var commit
                && commit.Id != _registry.SharedCommitId()
                && _registry.CommittedAlertEnds() is var localEnds
                && (localEnds is null || (last.Json >= localEnds.Value.Json && last.Log >= localEnds.Value.Log)))
            {
                _registry.SaveBatch(commit.Watermarks, (last.Json, last.Log), commit.Responses, commit.Id);
                foreach (var (agent, sequence) in _registry.Watermarks())
                {
                    _committed[agent] = sequence;
                }

                await output.WriteLineAsync($"vigil: finished the last analysis commit from the shared database ({commit.Watermarks.Count} watermarks, {commit.Responses.Count} responses): this manager stopped between the two commits");
            }

            _sharedAgents.SaveWatermarks(_committed.Where(w => w.Key != LocalAgent));
            (_authority, caOrigin) = await SharedCertificateAuthority.LoadOrCreateAsync(shared.Database, shared.CaPassword, Path.Combine(paths.Data, "ca"), shared.ManagerName, time, cancellationToken);
            caOrigin = $", {caOrigin}";
        }
        else
        {
            _authority = CertificateAuthority.LoadOrCreate(Path.Combine(paths.Data, "ca"), time);
        }

        _local = new DurableEventQueue(Path.Combine(paths.Data, "queue", "local.db"), capacity: 10 * DurableEventQueue.DefaultCapacity);
        var sink = _local;
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
        _deadLetters = new DeadLetterStore(DeadLetterStore.PathUnder(paths.Data), time);
        var guard = new AnalysisGuard(pipeline, _deadLetters, Stages.Register("analysis"), m => ManagerLog.EventFailed(_logger, m));
        if (Shared is { } sharedIntel)
        {
            _sharedIntel = new PostgresSharedIntel(sharedIntel.Database, sharedIntel.ManagerName, loggers.CreateLogger("Vigil.Storage.Postgres"));
        }

        _intel = IntelFanOut.Start(config, rules, sink, paths.IntelDatabase, time, loggers, _sharedIntel);

        // The manager is agent 000: `server` responses, and `local` ones for its own alerts, run here.
        _execd = ExecdFactory.Create(config, paths.Home, paths.Data, paths.ActiveResponseLog, time, loggers.CreateLogger("Vigil.Response"));
        _tailer = new ActiveResponseLogTailer(paths.ActiveResponseLog, sink, time) { Position = new QueueTailPosition(_local, "arlog"), Logger = loggers.CreateLogger("Vigil.Response") };
        _tailer.Anchor(); // before the loop carries out responses queued before a crash
        _loop = new AnalysisLoop(guard, writer, _intel, _execd, _responses, Indexing, Stages.Register("index"), new RegistryCommit(this, writer.Ends))
        {
            AgentScans = AgentScans,
            AgentEngines = AgentEngines,
        };
        if (Shared is { } sharedRouting)
        {
            _routing = new PostgresResponseRouting(sharedRouting.Database, sharedRouting.ManagerName, loggers.CreateLogger("Vigil.Storage.Postgres"), agent => _router?.Notified(agent));
            _router = new ResponseRouter(_routing, _registry, () => _transport?.Sessions, InjectAsync, ResponseDeadline, _logger, time);
        }

        _caOrigin = caOrigin;
    }

    // Once the loops run: the agents may connect.
    private async Task StartTransportAsync(CancellationToken cancellationToken)
    {
        var caOrigin = _caOrigin;
        _transport = await ManagerTransport.StartAsync(transportOptions, _authority!, _directory!, this, loggers, time, cancellationToken);
        await output.WriteLineAsync($"vigil: manager on {config.SourcePath} ({rules.Rules.Count} rules)");
        await output.WriteLineAsync($"vigil: agents on {transportOptions.ListenAddress}:{transportOptions.AgentPort} (mutual TLS), enrollment on {transportOptions.ListenAddress}:{transportOptions.EnrollmentPort}");
        await output.WriteLineAsync($"vigil: CA {Path.Combine(paths.Data, "ca", "ca.crt")} (sha256 {Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(_authority!.Certificate.RawData))}{caOrigin})");
        foreach (var integration in IntelFanOut.Integrations(config))
        {
            await output.WriteLineAsync(WatchedBinding.Describe(integration, rules));
        }

        await output.WriteLineAsync($"vigil: alerts in {paths.Alerts}/alerts.json and alerts.log");
        await output.WriteLineAsync("vigil: manager ready (Ctrl-C stops)");
    }

    public async ValueTask<ulong> OnConnectedAsync(AgentSession session, CancellationToken cancellationToken)
    {
        await InjectAsync($"vigil: Agent connected: {session.Id} ({session.Identity.Name})", cancellationToken);

        // What waited in its outbox (and what it had not yet confirmed before a reconnect) goes down now.
        foreach (var response in _registry!.PendingResponses(session.Id))
        {
            Send(session, response);
        }

        // Its lease, and what other managers routed to it (sent by the routing loop: the database may be slow).
        _router?.Connected(session);
        if (_sharedAgents is not null)
        {
            // The agent may come from another manager: what that one acknowledged is done here too.
            var shared = _sharedAgents.Watermark(session.Id);
            return _committed.AddOrUpdate(session.Id, shared, (_, local) => Math.Max(local, shared));
        }

        return _committed.GetValueOrDefault(session.Id);
    }

    public ValueTask OnResponseDoneAsync(AgentSession session, ulong id, string origin, CancellationToken cancellationToken)
    {
        var own = origin.Length == 0 || origin == Shared?.ManagerName;
        if (own && _registry!.CompleteResponse(session.Id, id))
        {
            ManagerLog.ResponseDone(_logger, id, session.Id);
        }

        // A response routed through the shared database (another manager's, or this one's handed off earlier).
        _router?.Done(session.Id, own ? Shared!.ManagerName : origin, id);
        return ValueTask.CompletedTask;
    }

    public ValueTask OnEventAsync(AgentSession session, ulong sequence, EventMessage message, CancellationToken cancellationToken) =>
        _events.Writer.WriteAsync(new ManagerEvent(message, session, sequence), cancellationToken);

    public ValueTask OnDisconnectedAsync(AgentSession session, CancellationToken cancellationToken)
    {
        _router?.Disconnected(session.Id);
        return InjectAsync($"vigil: Agent disconnected: {session.Id} ({session.Identity.Name})", cancellationToken);
    }

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

    // The manager's side of the analysis loop: agents' events (and its own queue's) from the channel; a replay of an
    // event at or below its agent's watermark is acknowledged again but not analysed twice; a batch's commit saves the
    // watermarks, where the alert files end and the outbox rows (lookups and responses) in one registry transaction.
    private sealed class RegistryCommit(ManagerHost host, (long Json, long Log) committedEnds) : IAnalysisCommitHook
    {
        private readonly Dictionary<string, ulong> _processed = new(host._committed, StringComparer.Ordinal);
        private readonly Dictionary<AgentSession, ulong> _acknowledgements = [];
        private readonly Dictionary<string, ulong> _watermarks = new(StringComparer.Ordinal);
        private (long Json, long Log) _committedEnds = committedEnds;
        private CancellationToken _stopping;

        private AgentRegistry Registry => host._registry!;

        public IReadOnlyList<AnalysisEffect> Pending() =>
            [.. host._intel.Keys.SelectMany(k => Registry.PendingResponses(IntelEffects + k)).Concat(Registry.PendingResponses(LocalAgent)).Select(ToEffect)];

        public async ValueTask<IReadOnlyList<AnalysisItem>?> ReadAsync(CancellationToken cancellationToken)
        {
            _stopping = cancellationToken;
            var reader = host._events.Reader;
            if (!await reader.WaitToReadAsync(cancellationToken))
            {
                return null;
            }

            _acknowledgements.Clear();
            _watermarks.Clear();
            var batch = new List<AnalysisItem>();
            while (batch.Count < AnalysisLoop.MaxBatch && reader.TryRead(out var item))
            {
                batch.Add(new AnalysisItem(item.Message, item.Sequence, item)
                {
                    Source = item is { IsLocal: false, Session: { } session } ? new AlertEventKey(session.Id, item.Sequence) : null,
                });
            }

            return batch;
        }

        public bool Admit(AnalysisItem item)
        {
            var managerEvent = (ManagerEvent)item.Origin!;
            if (managerEvent.IsLocal)
            {
                if (item.Sequence <= _processed.GetValueOrDefault(LocalAgent))
                {
                    return false;
                }

                _processed[LocalAgent] = item.Sequence;
                _watermarks[LocalAgent] = item.Sequence;
            }
            else if (managerEvent.Session is { } session)
            {
                _acknowledgements[session] = Math.Max(_acknowledgements.GetValueOrDefault(session), item.Sequence);

                // host._committed also holds what another manager acknowledged before the agent came here.
                if (item.Sequence <= Math.Max(_processed.GetValueOrDefault(session.Id), host._committed.GetValueOrDefault(session.Id)))
                {
                    return false; // A replay of an event whose alert is already written.
                }

                _processed[session.Id] = item.Sequence;
                _watermarks[session.Id] = item.Sequence;
            }

            return true;
        }

        // Wazuh's routing (spec §5.3): server → the manager; local → the agent the alert came from (the manager for its
        // own alerts); defined-agent → the configured agent; all → every connected agent. A response for an agent goes
        // to its durable outbox (committed with the batch) and waits there until the agent confirms it or its deadline.
        public void Route(ActiveResponseCommand command, List<AnalysisEffect> effects)
        {
            var target = command.Location == ActiveResponseLocations.Server ? LocalAgent : command.TargetAgentId;
            if (target is LocalAgent or "")
            {
                effects.Add(new AnalysisEffect(AnalysisEffectKind.LocalResponse, LocalAgent, command.Name, command.Json, DateTimeOffset.MaxValue));
                return;
            }

            var deadline = host.Time.GetUtcNow() + host.ResponseDeadline;
            var agents = target == ActiveResponseCommand.AllAgents
                ? [.. host._transport!.Sessions.All.Select(s => s.Id)]
                : new[] { target };
            foreach (var agent in agents)
            {
                effects.Add(new AnalysisEffect(AnalysisEffectKind.AgentResponse, agent, command.Name, command.Json, deadline));
            }
        }

        public IReadOnlyList<AnalysisEffect> Commit(IReadOnlyList<AnalysisItem> batch, (long Json, long Log) alertEnds, IReadOnlyList<AnalysisEffect> effects)
        {
            if (_watermarks.Count == 0 && alertEnds == _committedEnds && effects.Count == 0)
            {
                return [];
            }

            List<OutboxResponse> outbox = [.. effects.Select(ToOutbox)];
            var sharedCommit = host.CommitShared(_watermarks, alertEnds, outbox, _stopping);
            var queued = Registry.SaveBatch(_watermarks, alertEnds, outbox, sharedCommit);
            _committedEnds = alertEnds;
            foreach (var (agent, sequence) in _watermarks)
            {
                host._committed[agent] = sequence;
            }

            return [.. queued.Select(ToEffect)];
        }

        public void Acknowledge()
        {
            foreach (var (session, sequence) in _acknowledgements)
            {
                session.TryAcknowledge(sequence);
            }

            if (_watermarks.TryGetValue(LocalAgent, out var local))
            {
                host._local!.Acknowledge(local);
            }
        }

        // Committed to the outboxes: down to the agents connected now; the others get theirs when they connect.
        public void Deliver(AnalysisEffect effect)
        {
            var response = ToOutbox(effect);
            if (host._transport!.Sessions.Find(response.AgentId) is { } session)
            {
                host.Send(session, response);
            }
            else
            {
                ManagerLog.ResponseQueued(host._logger, response.Name, response.AgentId, response.Deadline);
                host._router?.HandOffSoon(); // the agent may be on another manager
            }
        }

        public void Complete(AnalysisEffect effect) => Registry.CompleteResponse(ToOutbox(effect).AgentId, (ulong)effect.Id);

        public void Report(string message) => ManagerLog.EventFailed(host._logger, message);

        public void Requeue(EventMessage notice) => host._local!.Enqueue(notice);

        private static OutboxResponse ToOutbox(AnalysisEffect effect) => effect.Kind switch
        {
            AnalysisEffectKind.Lookup => new OutboxResponse(IntelEffects + effect.Target, "", effect.Json, DateTimeOffset.MaxValue) { Id = (ulong)effect.Id },
            AnalysisEffectKind.LocalResponse => new OutboxResponse(LocalAgent, effect.Name, effect.Json, DateTimeOffset.MaxValue) { Id = (ulong)effect.Id },
            _ => new OutboxResponse(effect.Target, effect.Name, effect.Json, effect.Deadline) { Id = (ulong)effect.Id },
        };

        private static AnalysisEffect ToEffect(OutboxResponse response) =>
            response.AgentId == LocalAgent
                ? new AnalysisEffect(AnalysisEffectKind.LocalResponse, LocalAgent, response.Name, response.Json, response.Deadline) { Id = (long)response.Id }
                : response.AgentId.StartsWith(IntelEffects, StringComparison.Ordinal)
                    ? new AnalysisEffect(AnalysisEffectKind.Lookup, response.AgentId[IntelEffects.Length..], response.Name, response.Json, response.Deadline) { Id = (long)response.Id }
                    : new AnalysisEffect(AnalysisEffectKind.AgentResponse, response.AgentId, response.Name, response.Json, response.Deadline) { Id = (long)response.Id };
    }

    // Before the local commit (and so before the acknowledgement): another manager the agent moves to must know what
    // this one wrote alerts for. The shared commit carries what the local one will hold, so a manager killed between
    // the two redoes the local one at start. While the database is down, analysis waits here (retrying each second):
    // nothing is acknowledged that the others could not know about, and agents keep their events in their durable
    // queues. Returns the shared commit's id; null when there was none (no agent events in the batch, or alone).
    private string? CommitShared(IReadOnlyDictionary<string, ulong> watermarks, (long Json, long Log) alertEnds, IReadOnlyList<OutboxResponse> outbox, CancellationToken stopping)
    {
        if (_sharedAgents is null || Shared is null)
        {
            return null;
        }

        var agents = watermarks.Where(w => w.Key != LocalAgent).ToList();
        if (agents.Count == 0)
        {
            return null;
        }

        var commit = new SharedCommit(Guid.NewGuid().ToString("N"), watermarks, outbox);
        var payload = commit.Encode();

        long? downSince = null;
        while (true)
        {
            try
            {
                _sharedAgents.CommitBatch(agents, alertEnds, payload);
                if (downSince is { } since)
                {
                    PostgresLog.Back(_logger, Shared.Database.Display, time.GetElapsedTime(since).TotalSeconds);
                }

                return commit.Id;
            }
            catch (Core.VigilException ex) when (!ex.IsFatal && !stopping.IsCancellationRequested)
            {
                if (downSince is null)
                {
                    downSince = time.GetTimestamp();
                    PostgresLog.Unavailable(_logger, Shared.Database.Display, ex.InnerException?.Message ?? ex.Message, "analysis waits and agents keep their events until it is back");
                }

                try
                {
                    Task.Delay(TimeSpan.FromSeconds(1), time, stopping).GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    throw new OperationCanceledException("the manager stopped while the shared database was down", ex, stopping);
                }
            }
        }
    }

    // An agent that does not confirm responses (an older version) has it once it is on the stream.
    private void Send(AgentSession session, OutboxResponse response)
    {
        if (!session.TrySendActiveResponse(response.Name, response.Json, response.Id, Shared?.ManagerName ?? ""))
        {
            return; // the stream is closing; the response waits for the next connection
        }

        ManagerLog.ResponseSent(_logger, response.Name, session.Id, session.Identity.Name);
        if (!session.AcknowledgesResponses)
        {
            _registry!.CompleteResponse(session.Id, response.Id);
        }
    }

    private async Task ExpireResponsesAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
                foreach (var response in _registry!.TakeExpiredResponses(time.GetUtcNow()))
                {
                    var connected = _transport?.Sessions.Find(response.AgentId) is not null;
                    var reason = connected ? "the agent did not confirm it" : "the agent did not connect";
                    ManagerLog.ResponseNotDelivered(_logger, response.Name, response.AgentId, ResponseDeadline, reason);
                    await InjectAsync(
                        $"vigil: Active response not delivered: {response.Name} for agent {response.AgentId} within {ResponseDeadline.TotalSeconds:0} s ({reason}): {response.Json}",
                        cancellationToken);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // The manager's own queue into analysis, from the first event after agent 000's committed watermark.
    private async Task PumpLocalAsync(CancellationToken cancellationToken)
    {
        var last = _committed.GetValueOrDefault(LocalAgent);
        _local!.Acknowledge(last);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var changed = _local.Changed;
                var batch = _local.ReadAfter(last, 1024);
                if (batch.Count == 0)
                {
                    await changed.WaitAsync(TimeSpan.FromSeconds(1), time, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
                    continue;
                }

                foreach (var item in batch)
                {
                    await _events.Writer.WriteAsync(new ManagerEvent(item.Message, null, item.Sequence) { IsLocal = true }, cancellationToken);
                    last = item.Sequence;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
        }
    }

    // Before the loops stop: the responses under way end, and analysis takes what the agents left in its channel
    // (for up to five seconds); then nothing more is injected.
    private async Task DrainAsync()
    {
        await _responses.WhenAllAsync();
        await HostLifetime.DrainAsync(_events.Reader, time);
        await _stopping.CancelAsync();
    }

    private async Task StopTransportAsync()
    {
        if (_transport is not null)
        {
            await _transport.DisposeAsync();
        }
    }

    // Last, once analysis has stopped: intelligence (analysis carried out its lookups), then the stores.
    private async Task CloseAsync()
    {
        await _intel.DisposeAsync();
        if (_sharedIntel is not null)
        {
            await _sharedIntel.DisposeAsync();
        }

        if (_routing is not null)
        {
            await _routing.DisposeAsync();
        }

        _local?.Dispose();
        _registry?.Dispose();
        _deadLetters?.Dispose();
        AgentEngines.Dispose();
        _authority?.Dispose();
        _stopping.Dispose();
    }
}
