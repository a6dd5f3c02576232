using System.Threading.Channels;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Fim.Baseline;
using Vigil.Fim.Events;
using Vigil.Fim.Realtime;
using Vigil.Fim.Scanning;

namespace Vigil.Fim;

/// <summary>
/// File integrity monitoring (Wazuh's syscheckd): a persistent baseline, scheduled scans and realtime inotify monitoring,
/// reporting to an <see cref="IEventSink"/> as queue-8 <c>syscheck</c> events in Wazuh's JSON shape.
/// Hosts call <see cref="StartAsync"/> and <see cref="StopAsync"/>.
/// </summary>
public sealed class FimService : IAsyncDisposable
{
    private readonly SyscheckOptions _options;
    private readonly string _dataDirectory;
    private readonly IEventSink _sink;
    private readonly TimeProvider _time;
    private readonly PathPatternFactory _patterns;
    private readonly RescanQueue _rescans = new();
    private readonly SemaphoreSlim _scanGate = new(1, 1);
    private readonly Channel<EventMessage> _notices = Channel.CreateUnbounded<EventMessage>();
    private readonly TaskCompletionSource _initialScan = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _tasks = [];
    private CancellationTokenSource? _stop;
    private BaselineStore? _store;
    private BaselineWriter? _writer;
    private Scanner? _scanner;
    private InotifyWatcher? _watcher;
    private Outbox? _outbox;

    /// <summary>Creates the service; <paramref name="dataDirectory"/> holds <c>fim.db</c> and the report_changes copies.</summary>
    public FimService(SyscheckOptions options, string dataDirectory, IEventSink sink, TimeProvider? time = null)
        : this(options, dataDirectory, sink, time, OsMatchPattern.Create)
    {
    }

    internal FimService(SyscheckOptions options, string dataDirectory, IEventSink sink, TimeProvider? time, PathPatternFactory patterns)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentNullException.ThrowIfNull(sink);
        _options = options;
        _dataDirectory = dataDirectory;
        _sink = sink;
        _time = time ?? TimeProvider.System;
        _patterns = patterns;
    }

    /// <summary>Vigil's cap on inotify watches (below the kernel's max_user_watches); reaching it is reported like ENOSPC.</summary>
    internal int WatchLimit { get; init; } = int.MaxValue;

    /// <summary>Capacity of the queue between the inotify reader and the hashing workers.</summary>
    internal int RealtimeQueueCapacity { get; init; } = 16384;

    /// <summary>Replaces how files are opened for hashing (tests make a file unreadable even for root).</summary>
    internal IFileOpener FileOpener { get; init; } = DefaultFileOpener.Instance;

    /// <summary>Completes when the scan at start has been applied to the baseline.</summary>
    internal Task InitialScan => _initialScan.Task;

    /// <summary>The baseline's regular files, newest first, for a retro-scan; ready once the first scan is applied.</summary>
    public Vigil.Core.Baseline.IBaselineCatalog Baseline =>
        field ??= new Baseline.BaselineCatalog(Path.Combine(_dataDirectory, "fim.db"), () => _initialScan.Task.IsCompleted);

    internal int WatchCount => _watcher?.WatchCount ?? 0;

    /// <summary>What the service covers now: scan progress, baseline size, and the limits it ran into.</summary>
    internal FimStatus Status => new(
        _scanner?.FilesScanned ?? 0,
        _scanner?.BytesScanned ?? 0,
        _entriesAtStart,
        _writer?.EntryCount ?? 0,
        _options.FileLimit,
        _writer?.IsFileLimitReached ?? false,
        WatchCount,
        _watcher?.ExhaustedRoots ?? [],
        _initialScan.Task.IsCompleted,
        _scanner?.Current,
        _scanner?.Last);

    private int _entriesAtStart;

    internal BaselineWriter? Writer => _writer;

    /// <summary>Opens the baseline, arms realtime watches and starts the first scan in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Disabled)
        {
            _initialScan.TrySetResult();
            return;
        }

        _stop = new CancellationTokenSource();
        var token = _stop.Token;
        var scope = new PathScope(_options, _patterns, MountTable.Load());
        var inspector = new FileInspector(_options.FileMaxSizeBytes, FileOpener);
        _store = new BaselineStore(Path.Combine(_dataDirectory, "fim.db"));
        _outbox = new Outbox(_store.ConnectionString, _sink, _options.MaxEps, _time);
        _writer = new BaselineWriter(_store, new ContentChanges(_dataDirectory, _options, _patterns), _options, _time, _outbox.Notify, Recheck);
        _writer.LoadState();
        _entriesAtStart = _store.Count;
        _scanner = new Scanner(scope, inspector, _writer, _time, Recheck);
        if (_options.Directories.Any(d => d.Realtime || d.Whodata))
        {
            _watcher = new InotifyWatcher(scope, inspector, _writer, _rescans, m => _notices.Writer.TryWrite(m), _time, RealtimeQueueCapacity)
            {
                WatchLimit = _options.MaxRealtimeWatches > 0 ? Math.Min(WatchLimit, _options.MaxRealtimeWatches) : WatchLimit,
            };
        }

        _tasks.Add(Task.Run(() => _outbox.RunAsync(token), CancellationToken.None));
        _tasks.Add(Task.Run(() => _writer.RunAsync(token), CancellationToken.None));
        _tasks.Add(Task.Run(() => ForwardNoticesAsync(token), CancellationToken.None));
        if (_watcher is not null)
        {
            // Watches go in before the first scan, so nothing changes unseen between the two.
            _watcher.Start();
            await _watcher.Ready.WaitAsync(cancellationToken);
        }

        _tasks.Add(Task.Run(() => ScheduleLoopAsync(token), CancellationToken.None));
        _tasks.Add(Task.Run(() => RescanLoopAsync(token), CancellationToken.None));
        _tasks.Add(Task.Run(() => StatusLoopAsync(token), CancellationToken.None));
    }

    /// <summary>How often the progress `vigil status` reads is written while it changes.</summary>
    internal TimeSpan StatusInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>What <see cref="FimStatusFile"/> holds now.</summary>
    internal FimProgress Progress()
    {
        var status = Status;
        return new FimProgress(status.IsInitialScanDone, status.Scan is not null, status.Scan?.Files ?? status.FilesScanned,
            status.EntriesAtStart, status.Entries, _time.GetUtcNow());
    }

    // Written when it changed, and once more at the end of the first scan; a write that fails (disk full) is tried
    // at the next tick and never ends monitoring.
    private async Task StatusLoopAsync(CancellationToken cancellationToken)
    {
        FimProgress? written = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            var progress = Progress();
            if (written is null || written with { Updated = progress.Updated } != progress)
            {
                try
                {
                    FimStatusFile.Write(_dataDirectory, progress);
                    written = progress;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    written = null;
                }
            }

            try
            {
                var tick = Task.Delay(StatusInterval, _time, cancellationToken);
                await (written is { IsReady: false } ? Task.WhenAny(tick, _initialScan.Task) : tick);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }
    }

    /// <summary>Stops monitoring. Work in flight is not lost: the next start's scan compares against the stored baseline.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stop is null)
        {
            return;
        }

        await _stop.CancelAsync();
        if (_watcher is not null)
        {
            await _watcher.StopAsync();
        }

        try
        {
            await Task.WhenAll(_tasks).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        _tasks.Clear();
        _watcher?.Dispose();
        _watcher = null;
        _store?.Dispose();
        _store = null;
        _stop.Dispose();
        _stop = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    /// <summary>Runs a full scheduled scan now (as when <c>frequency</c> elapses).</summary>
    internal async Task ScanAsync(CancellationToken cancellationToken)
    {
        await _scanGate.WaitAsync(cancellationToken);
        try
        {
            await _scanner!.ScanAsync([.. _options.Directories.Select(d => new ScanTarget(d.Path))], "scheduled", fullScan: true, cancellationToken);
        }
        finally
        {
            _scanGate.Release();
        }
    }

    /// <summary>Waits until realtime queues, rescans and the outbox are idle (for tests and benchmarks).</summary>
    internal async Task WaitIdleAsync(CancellationToken cancellationToken)
    {
        var stable = 0;
        while (stable < 3)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await _writer!.Changes.WriteAsync(new WriterAction(_ => { }, done), cancellationToken);
            await done.Task.WaitAsync(cancellationToken);
            var busy = _rescans.Count > 0 || _scanGate.CurrentCount == 0 || (_watcher?.IsBusy ?? false) || _writer.HasPending || (_outbox?.HasBacklog() ?? false);
            stable = busy ? 0 : stable + 1;
        }
    }

    private void Recheck(string path, DirectoryOptions directory, string mode, int attempt)
    {
        if (_watcher is not null && mode == "realtime")
        {
            _watcher.Recheck(path, attempt);
        }
        else
        {
            _rescans.Request(Path.GetDirectoryName(path) ?? "/", recursive: false);
        }
    }

    private async Task ForwardNoticesAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in _notices.Reader.ReadAllAsync(cancellationToken))
            {
                await _writer!.Changes.WriteAsync(new Notice(message), cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task ScheduleLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            var targets = _options.Directories
                .Where(d => _options.ScanOnStart || !_writer!.IsBaselined(d.Path))
                .Select(d => new ScanTarget(d.Path))
                .ToList();
            var lastStart = _time.GetLocalNow();
            if (targets.Count > 0)
            {
                await _scanGate.WaitAsync(cancellationToken);
                try
                {
                    await _scanner!.ScanAsync(targets, "scheduled", fullScan: true, cancellationToken);
                }
                finally
                {
                    _scanGate.Release();
                }
            }

            _initialScan.TrySetResult();
            var lastEnd = _time.GetLocalNow();
            while (!cancellationToken.IsCancellationRequested)
            {
                var due = ScanSchedule.Next(_options, lastStart, lastEnd);
                var wait = due - _time.GetLocalNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait < TimeSpan.FromMinutes(1) ? wait : TimeSpan.FromMinutes(1), _time, cancellationToken);
                    continue;
                }

                lastStart = _time.GetLocalNow();
                await ScanAsync(cancellationToken);
                lastEnd = _time.GetLocalNow();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _initialScan.TrySetCanceled(cancellationToken);
        }
        catch (Exception e)
        {
            _initialScan.TrySetException(e);
            throw;
        }
    }

    private async Task RescanLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var targets = await _rescans.TakeAsync(cancellationToken);
                await _scanGate.WaitAsync(cancellationToken);
                try
                {
                    await _scanner!.ScanAsync(targets, "realtime", fullScan: false, cancellationToken);
                }
                finally
                {
                    _scanGate.Release();
                }

                if (_rescans.Count == 0)
                {
                    _watcher?.OverflowRecovered();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}

/// <summary>
/// A snapshot of FIM's coverage for the console and the hosts. <c>EntriesAtStart</c> is the baseline's size when the
/// service started: the expected size of a rescan, 0 on a first scan.
/// </summary>
internal sealed record FimStatus(
    long FilesScanned,
    long BytesScanned,
    int EntriesAtStart,
    int Entries,
    int FileLimit,
    bool IsFileLimitReached,
    int Watches,
    IReadOnlyList<string> WatchesExhaustedUnder,
    bool IsInitialScanDone,
    ScanProgress? Scan = null,
    ScanProgress? LastScan = null);
