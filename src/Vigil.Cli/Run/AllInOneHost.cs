using System.Threading.Channels;
using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Analysis.Rules;
using Vigil.Cli.Hosts;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Fim;
using Vigil.Intel;
using Vigil.Manager.Index;
using Vigil.Response.Execd;

namespace Vigil.Cli.Run;

/// <summary>Where `vigil run` keeps things.</summary>
internal sealed record AllInOnePaths(string Home, string Data)
{
    public string Alerts => Path.Combine(Data, "logs", "alerts");

    public string ActiveResponseLog => Response.Execd.ActiveResponseLog.PathInData(Data);

    public string Fim => Path.Combine(Data, "fim");

    public string IntelDatabase(int index) => Path.Combine(Data, "intel", index == 0 ? "intel.db" : $"intel-{index}.db");

    public string Quarantine => Path.Combine(Data, "quarantine");
}

/// <summary>
/// Agent and manager in one process (the embedded default): FIM → analysis → alerts → intelligence → analysis →
/// active response → AR log → analysis, all through one in-process channel. No network, no ports.
/// </summary>
internal sealed class AllInOneHost(OssecConfig config, RuleSet rules, AllInOnePaths paths, TextWriter output, TimeProvider time) : IAsyncDisposable
{
    private readonly Channel<EventMessage> _events = Channel.CreateBounded<EventMessage>(new BoundedChannelOptions(65_536)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    private readonly List<IntelService> _intel = [];
    private readonly ResponseTasks _responses = new();
    private readonly CancellationTokenSource _stopping = new();
    private FimService? _fim;
    private ExecDaemon? _execd;
    private ActiveResponseLogTailer? _tailer;
    private Task? _analysis;
    private Task? _background;

    /// <summary>Alerts written so far (for tests and the summary line at exit).</summary>
    public long AlertCount => Interlocked.Read(ref _alertCount);

    private long _alertCount;
    private AlertBatch? _written;

    internal IReadOnlyList<IntelService> IntelServices => _intel;

    /// <summary>The alert index and live feed the dashboard reads; set before <see cref="StartAsync"/>, null for none.</summary>
    public AlertIndexing? Indexing { get; init; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Data);
        Directory.CreateDirectory(Path.GetDirectoryName(paths.ActiveResponseLog)!);
        var sink = new ChannelEventSink(_events.Writer);
        var writer = AlertFileWriter.Open(paths.Alerts, config.Global.JsonOutput, config.Global.AlertsLog);
        if (writer.RepairedBytes > 0)
        {
            await output.WriteLineAsync($"vigil: cut {writer.RepairedBytes} bytes of a torn last alert in {paths.Alerts} (an earlier crash)");
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

        _execd = HostExecd.Create(config, paths.Home, paths.Data, paths.ActiveResponseLog, time);

        // The AR log goes back into the pipeline as logcollector sends it to Wazuh (so 657/100092/100093 fire),
        // whichever program wrote the line: Vigil's remove-threat or the seed's remove-threat.sh.
        _tailer = new ActiveResponseLogTailer(paths.ActiveResponseLog, sink, time);
        _analysis = Task.Run(() => AnalyseAsync(pipeline, writer, _stopping.Token), CancellationToken.None);
        _background = Task.WhenAll(
            _execd.RunTimeoutLoopAsync(_stopping.Token),
            _tailer.RunAsync(TimeSpan.FromMilliseconds(100), _stopping.Token));

        _fim = new FimService(SyscheckOverrides.WithoutOwnFiles(config.Syscheck, paths.Data, paths.ActiveResponseLog), paths.Fim, sink, time);
        await _fim.StartAsync(cancellationToken);
    }

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
        _limits = Task.Run(() => console.WatchLimitsAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Whether progress may rewrite one console line (set false for tests that read the output).</summary>
    public bool IsTerminal { get; init; }

    private Task? _limits;

    private async Task AnalyseAsync(AnalysisPipeline pipeline, AlertFileWriter writer, CancellationToken cancellationToken)
    {
        using var _ = writer;
        var reader = _events.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                while (reader.TryRead(out var message))
                {
                    var result = pipeline.Process(message);
                    if (result.IsWritten)
                    {
                        Interlocked.Increment(ref _alertCount);
                        if (Indexing is not null)
                        {
                            _written ??= Indexing.NewBatch();
                            _written.Add(result.AlertUtf8!, AlertIndexing.FieldsOf(result, pipeline.Context));
                            if (_written.Count >= 4096)
                            {
                                writer.Flush(durable: true);
                                _written = await Indexing.AddAsync(_written, writer.JsonEnd, cancellationToken);
                            }
                        }
                    }

                    if (result.IsWritten)
                    {
                        foreach (var intel in _intel)
                        {
                            await intel.OnAlertAsync(result.AlertJson!, cancellationToken);
                        }
                    }

                    foreach (var command in result.ActiveResponses)
                    {
                        Dispatch(command);
                    }
                }

                // The queue is drained: make what was written durable before waiting for more; then index it.
                writer.Flush(durable: true);
                if (Indexing is not null && _written is not null)
                {
                    _written = await Indexing.AddAsync(_written, writer.JsonEnd, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    // In one process this host is agent 000 and every agent: each response runs here, concurrently.
    private void Dispatch(ActiveResponseCommand command)
    {
        if (command.Location == ActiveResponseLocations.DefinedAgent && command.TargetAgentId is not ("000" or "001"))
        {
            output.WriteLine($"vigil: active response {command.Name} is for agent {command.TargetAgentId}, which does not exist in `vigil run`; skipped");
            return;
        }

        _responses.Start(() => _execd!.ExecuteAsync(command.Json, _stopping.Token));
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
            text.WriteLine(WatchedDirectories.Describe(directory));
        }

        foreach (var integration in config.Integrations.Where(i => i.Name is "virustotal" or "custom-vigil-lists"))
        {
            text.WriteLine(WatchedBinding.Describe(integration, rules));
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

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        if (_fim is not null)
        {
            await _fim.DisposeAsync();
        }

        await _responses.WhenAllAsync();
        foreach (var intel in _intel)
        {
            await intel.DisposeAsync();
        }

        // Let analysis drain what FIM, intelligence and the responses produced, then stop the loops.
        await HostLifetime.DrainAsync(_events.Reader, time);

        await _stopping.CancelAsync();
        await Task.WhenAll(_analysis ?? Task.CompletedTask, _background ?? Task.CompletedTask, _limits ?? Task.CompletedTask).ContinueWith(_ => { }, TaskScheduler.Default);
        _stopping.Dispose();
    }
}
