using System.Buffers;
using System.CommandLine;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Analysis.Rules;
using Vigil.Core;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Intel;
using Vigil.Manager;
using Vigil.Manager.Index;
using Vigil.Manager.Web;
using Vigil.Response.Execd;
using Vigil.Response.Quarantine;
using Vigil.Transport;
using Vigil.Transport.Registry;

namespace Vigil.Cli.Hosts;

/// <summary>
/// Puts each batch of durably written alerts into the alert index and onto the live feed, on a writer task of its own,
/// so indexing never slows analysis or acknowledgements down unless the index falls a million alerts behind (then
/// analysis waits for it: nothing is dropped). alerts.json is the record: an index failure (disk full, a damaged file)
/// is reported once and the alerts stay in alerts.json.
/// </summary>
internal sealed class AlertIndexing(AlertIndex index, AlertFeed feed, TextWriter output) : IAsyncDisposable
{
    private const long MaxBacklog = 1_000_000;
    private static readonly TimeSpan RetentionPeriod = TimeSpan.FromHours(1);

    // Unbounded as a channel, bounded by the alerts it holds: a burst of small batches must not make analysis wait
    // while the index is far from a million alerts behind.
    private readonly System.Threading.Channels.Channel<(AlertBatch Alerts, long? End)> _batches = System.Threading.Channels.Channel.CreateUnbounded<(AlertBatch, long?)>(
        new System.Threading.Channels.UnboundedChannelOptions { SingleReader = true });

    // Emptied batches, kept (with their chunks) for the next ones; a burst's extra batches are left to the collector.
    private readonly System.Collections.Concurrent.ConcurrentQueue<AlertBatch> _spare = new();
    private const int MaxSpareBatches = 4;

    private readonly SemaphoreSlim _room = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private long _backlog;
    private int _waiting;
    private Task? _writer;
    private Task? _retention;
    private bool _failing;

    public AlertIndex Index => index;

    public AlertFeed Feed => feed;

    /// <summary>Alerts handed over and not yet indexed.</summary>
    public long Backlog => Interlocked.Read(ref _backlog);

    public static AlertIndexing Open(string dataDirectory, TextWriter output, TimeProvider time)
    {
        var indexing = new AlertIndexing(new AlertIndex(AlertIndex.PathUnder(dataDirectory), new AlertIndexOptions(), time), new AlertFeed(), output);
        indexing._writer = Task.Run(indexing.WriteAsync);
        indexing._retention = Task.Run(() => indexing.RunRetentionAsync(time, indexing._stopping.Token));
        return indexing;
    }

    /// <summary>
    /// The fields the index takes from the written alert of <paramref name="result"/>, when they are known without
    /// reading its document back; null otherwise (the index reads them from the document). A FIM alert has no
    /// <c>data</c> object, so none of the paths the index reads under it: its fields are the alert's own.
    /// </summary>
    public static AlertFields? FieldsOf(AnalysisResult result, AlertContext context)
    {
        if (result.Alert is not { Event.Syscheck: { } fim } alert)
        {
            return null;
        }

        return new AlertFields(
            alert.Id,
            AlertJson.TimestampAsWritten(alert.Timestamp),
            alert.Rule.Id,
            alert.Rule.Level,
            alert.Event.AgentId,
            alert.Event.Agent?.Name ?? context.ManagerName,
            alert.Description,
            fim.Path,
            CausedBy: null,
            alert.Rule.Output!.Groups,
            Quarantine: null);
    }

    /// <summary>An empty batch to collect written alerts in (hand it over with <see cref="AddAsync"/>).</summary>
    public AlertBatch NewBatch() => _spare.TryDequeue(out var batch) ? batch : new AlertBatch();

    /// <summary>
    /// Hands over a batch of alerts already fsynced to alerts.json, and returns an empty batch to collect the next ones
    /// in (the same one when there was nothing to hand over). <paramref name="alertsJsonEnd"/> is where alerts.json ends
    /// after them (null when there is no alerts.json).
    /// </summary>
    public async ValueTask<AlertBatch> AddAsync(AlertBatch alerts, long? alertsJsonEnd, CancellationToken cancellationToken)
    {
        if (alerts.Count == 0)
        {
            return alerts;
        }

        while (Interlocked.Read(ref _backlog) >= MaxBacklog)
        {
            Interlocked.Increment(ref _waiting);
            try
            {
                await _room.WaitAsync(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        Interlocked.Add(ref _backlog, alerts.Count);
        _batches.Writer.TryWrite((alerts, alertsJsonEnd));
        return NewBatch();
    }

    private async Task WriteAsync()
    {
        var pending = new List<AlertDocument>();
        var taken = new List<AlertBatch>();
        while (await _batches.Reader.WaitToReadAsync())
        {
            long? end = null;
            while (pending.Count < 8192 && _batches.Reader.TryRead(out var batch))
            {
                pending.AddRange(batch.Alerts.Documents);
                taken.Add(batch.Alerts);
                end = batch.End ?? end;
            }

            Write(pending, end);
            Interlocked.Add(ref _backlog, -pending.Count);
            pending.Clear();
            foreach (var batch in taken)
            {
                batch.Clear();
                if (_spare.Count < MaxSpareBatches)
                {
                    _spare.Enqueue(batch);
                }
            }

            taken.Clear();
            if (Volatile.Read(ref _waiting) > 0)
            {
                _room.Release();
            }
        }
    }

    /// <summary>
    /// Indexes what alerts.json holds past the point the index last recorded, up to <paramref name="committedEnd"/>: the
    /// alerts a crash or kill left in the backlog, or all of them for a new (or deleted) index. Run before analysis
    /// starts. An index from before the point was recorded starts recording from here.
    /// </summary>
    public long CatchUp(string alertsJson, long committedEnd)
    {
        long indexed = 0;
        try
        {
            var from = index.SourceEnd;
            if (from is null && index.After(0, 1).Count > 0)
            {
                index.SetSourceEnd(committedEnd);
                return 0;
            }

            if (from > committedEnd)
            {
                output.WriteLine($"vigil: {alertsJson} ends at byte {committedEnd:N0}, before the {from:N0} the alert index had taken (the file was replaced?): indexing from its end on");
                index.SetSourceEnd(committedEnd);
                return 0;
            }

            var start = from ?? 0; // a new index: all of alerts.json
            if (start == committedEnd || !File.Exists(alertsJson))
            {
                index.SetSourceEnd(committedEnd);
                return 0;
            }

            if (committedEnd - start > 16 << 20)
            {
                output.WriteLine($"vigil: indexing {(committedEnd - start) >> 20:N0} MiB of {alertsJson} that the alert index does not have yet (before analysis starts)");
            }

            using var stream = new FileStream(alertsJson, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
            stream.Position = start;
            var batch = new AlertBatch();
            var line = new ArrayBufferWriter<byte>();
            var chunk = new byte[1 << 16];
            var position = start;
            while (position < committedEnd)
            {
                var read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, committedEnd - position));
                if (read == 0)
                {
                    break;
                }

                var span = chunk.AsSpan(0, read);
                while (span.Length > 0)
                {
                    var newline = span.IndexOf((byte)'\n');
                    if (newline < 0)
                    {
                        line.Write(span);
                        position += span.Length;
                        break;
                    }

                    line.Write(span[..newline]);
                    position += newline + 1;
                    span = span[(newline + 1)..];
                    batch.Add(line.WrittenSpan);
                    line.ResetWrittenCount();
                    if (batch.Count == 4096)
                    {
                        indexed += AddToIndex(batch.Documents, position);
                        batch.Clear();
                    }
                }
            }

            indexed += AddToIndex(batch.Documents, position);
            if (indexed > 0)
            {
                output.WriteLine($"vigil: indexed {indexed:N0} alerts from {alertsJson} that the alert index did not have yet");
            }
        }
        catch (Exception ex) when (ex is SqliteException or IOException)
        {
            output.WriteLine($"vigil: the alert index could not catch up with {alertsJson} ({ex.Message}); alerts.json has the alerts; the dashboard misses them");
        }

        return indexed;
    }

    // Live views get the alerts as indexed; their text is decoded only when someone is watching.
    private int AddToIndex(IReadOnlyList<AlertDocument> alerts, long? alertsJsonEnd) =>
        index.Add(alerts, alertsJsonEnd, feed.SubscriberCount > 0 ? feed.Publish : null);

    private void Write(List<AlertDocument> alerts, long? alertsJsonEnd)
    {
        try
        {
            AddToIndex(alerts, alertsJsonEnd);

            if (_failing)
            {
                _failing = false;
                output.WriteLine("vigil: the alert index works again (alerts.json holds the alerts it missed)");
            }
        }
        catch (SqliteException ex) when (!_failing)
        {
            _failing = true;
            output.WriteLine($"vigil: the alert index could not take {alerts.Count} alerts ({ex.Message}); alerts.json has them; the dashboard misses them");
        }
        catch (SqliteException)
        {
        }
    }

    /// <summary>Applies the index's retention now and every hour until stopped.</summary>
    public async Task RunRetentionAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    index.ApplyRetention();
                }
                catch (SqliteException ex)
                {
                    await output.WriteLineAsync($"vigil: alert index retention failed: {ex.Message}");
                }

                await Task.Delay(RetentionPeriod, time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Indexes what is queued, then closes the index.</summary>
    public async ValueTask DisposeAsync()
    {
        _batches.Writer.TryComplete();
        await (_writer ?? Task.CompletedTask);
        await _stopping.CancelAsync();
        await (_retention ?? Task.CompletedTask);
        _stopping.Dispose();
        _room.Dispose();
        index.Dispose();
    }
}

/// <summary>
/// What the API asks of `vigil run` and `vigil manager`: the agent list (the host itself is 000), quarantine commands
/// (run here for 000, sent over the agent's authenticated channel otherwise), intelligence status, rules, logtest.
/// </summary>
internal sealed class HostOperations(
    OssecConfig config,
    RuleSet rules,
    QuarantineOperations localQuarantine,
    IReadOnlyList<IntelService> intel,
    TimeProvider time,
    AgentRegistry? registry = null,
    Func<ManagerTransport?>? transport = null,
    AlertIndex? index = null) : IManagerOperations
{
    private static readonly string s_version = typeof(HostOperations).Assembly.GetName().Version?.ToString() ?? "";

    /// <summary>The host's stages, for /api/health.</summary>
    public StageMonitor? Stages { get; init; }

    /// <summary>The host's dead-letter store (opened when the host starts).</summary>
    public Func<DeadLetterStore?>? DeadLetterStore { get; init; }

    IReadOnlyList<StageStatus> IManagerOperations.Stages() => Stages?.Snapshot() ?? [];

    public IReadOnlyList<DeadLetter> DeadLetters(int limit, long? beforeId) => DeadLetterStore?.Invoke()?.List(limit, beforeId) ?? [];

    public DeadLetter? DeadLetter(long id) => DeadLetterStore?.Invoke()?.Find(id);

    public IReadOnlyList<AgentSummary> ListAgents()
    {
        var agents = new List<AgentSummary> { new("000", Environment.MachineName, "127.0.0.1", s_version, AgentStatus.Active, time.GetUtcNow()) };
        if (registry is not null)
        {
            var sessions = transport?.Invoke()?.Sessions;
            foreach (var agent in registry.List())
            {
                var status = agent.IsRemoved ? AgentStatus.Removed
                    : sessions?.Find(agent.Id) is not null ? AgentStatus.Active
                    : agent.Status == AgentStatus.Active ? AgentStatus.Disconnected : agent.Status;
                agents.Add(new AgentSummary(agent.Id, agent.Name, agent.Address, agent.Version, status, agent.LastKeepAlive));
            }
        }

        return agents;
    }

    public bool RemoveAgent(string agentId)
    {
        if (registry is null || agentId == "000" || registry.Find(agentId) is not { IsRemoved: false })
        {
            return false;
        }

        var removed = registry.Remove(agentId);
        transport?.Invoke()?.Sessions.Find(agentId)?.Close(); // its certificate is refused from now on
        return removed;
    }

    public async Task<QuarantineCommandResult> QuarantineAsync(
        string agentId, long quarantineId, QuarantineVerb verb, string requestedBy, CancellationToken cancellationToken)
    {
        var name = verb == QuarantineVerb.Restore ? "restore" : "delete";
        if (agentId == "000")
        {
            var result = await (verb == QuarantineVerb.Restore
                ? localQuarantine.RestoreAsync(quarantineId, cancellationToken)
                : localQuarantine.DeleteAsync(quarantineId, cancellationToken));
            return new QuarantineCommandResult(result.Succeeded ? QuarantineCommandStatus.Done : QuarantineCommandStatus.Failed, result.Message);
        }

        if (registry?.Find(agentId) is not { IsRemoved: false })
        {
            return new QuarantineCommandResult(QuarantineCommandStatus.NotFound, $"there is no agent {agentId}");
        }

        // Only a record the agent reported is acted on, and the agent checks the path and hash before it acts.
        if (index?.QuarantineRecord(agentId, quarantineId) is not { } record)
        {
            return new QuarantineCommandResult(QuarantineCommandStatus.NotFound, $"agent {agentId} reported no quarantine record {quarantineId}");
        }

        if (record.State != QuarantineStates.Quarantined)
        {
            return new QuarantineCommandResult(QuarantineCommandStatus.Failed, $"quarantine record {quarantineId} of agent {agentId} is {record.State}, not in the vault");
        }

        if (transport?.Invoke()?.Sessions.Find(agentId) is not { } session)
        {
            return new QuarantineCommandResult(QuarantineCommandStatus.AgentOffline, $"agent {agentId} is not connected; nothing was sent");
        }

        var json = QuarantineOperations.CommandJson(name, quarantineId, record.Path, record.Sha256, requestedBy);
        return session.TrySendActiveResponse(QuarantineOperations.CommandName, json)
            ? new QuarantineCommandResult(QuarantineCommandStatus.Sent, $"{name} of quarantine record {quarantineId} sent to agent {agentId}")
            : new QuarantineCommandResult(QuarantineCommandStatus.AgentOffline, $"agent {agentId} is disconnecting; nothing was sent");
    }

    public IReadOnlyList<IntelStatus> Intel()
    {
        var statuses = new List<IntelStatus>();
        var integrations = config.Integrations.Where(i => i.Name is "virustotal" or "custom-vigil-lists").ToList();
        for (var i = 0; i < intel.Count; i++)
        {
            var status = intel[i].Status();
            statuses.Add(new IntelStatus(
                i < integrations.Count ? integrations[i].Name : "intel",
                status.Enabled,
                status.MinuteQuota,
                status.MinuteUsed,
                status.DayQuota,
                status.DayUsed,
                status.QueueLength,
                status.CacheHits,
                status.CacheMisses,
                status.WaitingUntil));
        }

        return statuses;
    }

    public IReadOnlyList<RuleSummary> Rules() =>
        [.. rules.Rules.Select(r => new RuleSummary(r.Id, r.Level, r.Description, r.Groups, r.Source.File))];

    public LogtestOutcome Logtest(string line)
    {
        var (alert, trace) = LogtestCommand.Evaluate(config, rules, line);
        return new LogtestOutcome(alert, trace);
    }

    /// <summary>The quarantine of the host this process runs on.</summary>
    public static QuarantineOperations LocalQuarantine(string dataDirectory, string activeResponseLog, TimeProvider time) =>
        new(new QuarantineOptions { DataDirectory = dataDirectory }, new ActiveResponseLog(activeResponseLog, time), time);
}

/// <summary>The command-line options of the API and dashboard, shared by `vigil run` and `vigil manager`.</summary>
internal sealed class WebCommandOptions
{
    private readonly Option<string> _address = new("--web-address") { Description = "Address the API and dashboard listen on.", DefaultValueFactory = _ => "127.0.0.1" };
    private readonly Option<int> _port = new("--web-port") { Description = "Port of the API and dashboard (0: any free port).", DefaultValueFactory = _ => 5601 };
    private readonly Option<FileInfo?> _certificate = new("--web-cert") { Description = "Serve HTTPS with this certificate (PEM or PFX)." };
    private readonly Option<FileInfo?> _key = new("--web-key") { Description = "The PEM private key of --web-cert, when not in the same file." };
    private readonly Option<bool> _off = new("--no-web") { Description = "Do not serve the API and dashboard." };

    public void AddTo(Command command)
    {
        command.Options.Add(_address);
        command.Options.Add(_port);
        command.Options.Add(_certificate);
        command.Options.Add(_key);
        command.Options.Add(_off);
    }

    /// <summary>The web options (null with --no-web); false, with the reason on stderr, for a bad address or port.</summary>
    public bool TryResolve(ParseResult parseResult, string dataDirectory, string commandName, out WebOptions? options)
    {
        try
        {
            options = Resolve(parseResult, dataDirectory);
            return true;
        }
        catch (VigilException ex)
        {
            Console.Error.WriteLine($"{commandName}: {ex.Message}");
            options = null;
            return false;
        }
    }

    private WebOptions? Resolve(ParseResult parseResult, string dataDirectory)
    {
        if (parseResult.GetValue(_off))
        {
            return null;
        }

        var address = parseResult.GetValue(_address)!;
        if (address != "localhost" && !System.Net.IPAddress.TryParse(address, out _))
        {
            throw new VigilException($"--web-address {address}: expected an IP address");
        }

        var port = parseResult.GetValue(_port);
        if (port is < 0 or > 65535)
        {
            throw new VigilException($"--web-port {port}: expected 0 to 65535");
        }

        return new WebOptions
        {
            ListenAddress = address,
            Port = port,
            CertificatePath = parseResult.GetValue(_certificate)?.FullName,
            CertificateKeyPath = parseResult.GetValue(_key)?.FullName,
            DataDirectory = dataDirectory, // the users database goes under its web/ folder
            InitialAdminPassword = Environment.GetEnvironmentVariable("VIGIL_ADMIN_PASSWORD") is { Length: > 0 } password ? password : null,
        };
    }
}

/// <summary>
/// A host with the API and dashboard in front of it: started after the host (so the operations it offers exist),
/// stopped before it. A dashboard that cannot start (its port taken, a bad certificate) is reported and detection
/// runs on without it.
/// </summary>
internal sealed class WebFrontedHost(IAsyncDisposable host, AlertIndexing indexing, WebOptions? options, TextWriter output, ILoggerFactory loggers) : IAsyncDisposable
{
    private VigilWebServer? _server;

    public VigilWebServer? Server => _server;

    /// <summary>Starts the host, then the dashboard, then waits for <c>untilReady</c> (the first scan), so the dashboard is up from the start.</summary>
    public async Task StartAsync(
        Func<CancellationToken, Task> startHost, Func<IManagerOperations> operations, CancellationToken cancellationToken, Func<CancellationToken, Task>? untilReady = null)
    {
        await startHost(cancellationToken);
        await StartWebAsync(operations, cancellationToken);
        if (untilReady is not null)
        {
            await untilReady(cancellationToken);
        }
    }

    private async Task StartWebAsync(Func<IManagerOperations> operations, CancellationToken cancellationToken)
    {
        if (options is null)
        {
            await output.WriteLineAsync("vigil: API and dashboard off (--no-web)");
            return;
        }

        try
        {
            _server = await VigilWebServer.StartAsync(options, indexing.Index, indexing.Feed, operations(), loggers, TimeProvider.System, output, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or InvalidOperationException or UnauthorizedAccessException)
        {
            await output.WriteLineAsync($"vigil: the API and dashboard did not start on {options.ListenAddress}:{options.Port}: {ex.Message}; detection runs on without them");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        await host.DisposeAsync();
        await indexing.DisposeAsync();
    }
}
