using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Core.Native;
using Vigil.Intel.ClamAv;
using Vigil.Intel.Files;
using Vigil.Intel.Selection;
using Vigil.Intel.Yara;

namespace Vigil.Intel.Engines;

/// <summary>One engine's state for status pages.</summary>
internal sealed record EngineStatus(string Name, string? Version, string State, string? Problem, int Pending, long CacheHits, long Scans, RetroScanState? RetroScan = null);

/// <summary>
/// A detection engine where the files are (`vigil run`): takes the FIM alerts its integration block selects, queues
/// each durably, and a worker scans them through a descriptor opened without following symlinks, the verdict cached
/// by SHA-256 and engine version. Each answer is one message (a detection, a file not scanned and why, an error); a
/// file waits while the engine cannot answer (clamd down, no YARA rules in force), and the engine's state is an
/// alert once per episode (down, rules that do not compile, no database). The YARA rules are reloaded on change.
/// </summary>
internal sealed partial class EngineService : IFileIntelligence
{
    private const int BatchSize = 16;
    private const long LargeFile = 1024 * 1024;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan HealthInterval = TimeSpan.FromSeconds(2);

    private readonly IFileEngine _engine;
    private readonly YaraEngine? _yara;
    private readonly ClamAvEngine? _clamAv;
    private readonly AlertSelector _selector;
    private readonly IEventSink _sink;
    private readonly EngineStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stopping = new();
    private Task? _worker;
    private DateTimeOffset _nextReload;
    private DateTimeOffset _nextHealth;
    private string? _reportedState;
    private static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(5);
    private EngineStatus? _savedStatus;
    private DateTimeOffset _savedAt;
    private long _cacheHits;
    private long _scans;

    internal EngineService(IFileEngine engine, AlertSelector selector, IEventSink sink, EngineStore store, TimeProvider time, ILogger? logger = null)
    {
        _engine = engine;
        _yara = engine as YaraEngine;
        _clamAv = engine as ClamAvEngine;
        _selector = selector;
        _sink = sink;
        _store = store;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The engine of a custom-vigil-yara or custom-vigil-clamav block; throws VigilException for bad options.</summary>
    public static EngineService Create(IntegrationOptions integration, AlertSelector selector, IEventSink sink, string databasePath, string home, TimeProvider time, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(integration);
        IFileEngine engine = integration.Name == EngineSettings.Yara
            ? new YaraEngine(EngineSettings.YaraFrom(integration, home))
            : new ClamAvEngine(EngineSettings.ClamAvFrom(integration, home));
        return new EngineService(engine, selector, sink, EngineStore.Open(databasePath), time, logger) { RetroScanOptions = EngineSettings.RetroScanFrom(integration) };
    }

    public IFileEngine Engine => _engine;

    /// <summary>Whether the worker found nothing to do at its last look (tests wait for it).</summary>
    internal bool IsIdle { get; private set; }

    public EngineStatus Status() => new(
        _engine.Name, _engine.Version, _reportedState ?? YaraState(), _yara?.LastErrors.FirstOrDefault()?.ToString() ?? _clamAv?.Problem,
        _store.PendingCount(), Interlocked.Read(ref _cacheHits), Interlocked.Read(ref _scans), RetroScan);

    // YARA's state: "down" while no rules compile (files wait), "reload_error" while an edit does not compile and the
    // previous rules stay in force, else "up". ClamAV's comes from its health checks.
    private string YaraState() => _yara is not { LastErrors.Count: > 0 } ? "up"
        : _yara.Version is null ? EngineMessages.Down
        : EngineMessages.ReloadError;

    // What `vigil status` reads, written when it changed (and the counters at most every few seconds).
    internal void SaveStatus()
    {
        var status = Status();
        var now = _time.GetUtcNow();
        if (_savedStatus is { } saved && saved with { Pending = status.Pending, CacheHits = status.CacheHits, Scans = status.Scans } == status
            && now - _savedAt < StatusInterval)
        {
            return;
        }

        _store.SaveState(status, now);
        _savedStatus = status;
        _savedAt = now;
    }

    public void Start() => _worker ??= Task.Run(() => RunAsync(_stopping.Token));

    public bool Selects(string alertJson)
    {
        try
        {
            using var document = JsonDocument.Parse(alertJson);
            return _selector.IsMatch(document.RootElement);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public ValueTask OnAlertAsync(string alertJson, string? key, CancellationToken cancellationToken)
    {
        try
        {
            using var document = JsonDocument.Parse(alertJson);
            if (!_selector.IsMatch(document.RootElement) || FileAlert.TryParse(document.RootElement) is not { IsEmptyFile: false })
            {
                return ValueTask.CompletedTask;
            }
        }
        catch (JsonException ex)
        {
            Log.AlertNotJson(_logger, ex.Message);
            return ValueTask.CompletedTask;
        }

        _store.Enqueue(alertJson, key);
        _wake.Writer.TryWrite(true);
        IsIdle = false;
        return ValueTask.CompletedTask;
    }

    /// <summary>One pass of the worker: reload, health, then the waiting files; false when it should wait.</summary>
    internal async Task<bool> StepAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_yara is not null && now >= _nextReload)
        {
            _nextReload = now + _yara.Options.ReloadInterval;
            await ReloadAsync();
        }

        if (_clamAv is not null && _clamAv.Health != ClamAvHealth.Up && now >= _nextHealth)
        {
            _nextHealth = now + HealthInterval;
            await CheckHealthAsync(cancellationToken);
        }

        if (_yara is { Version: null } || _clamAv is { Health: ClamAvHealth.Down })
        {
            return false; // files wait until the engine can answer
        }

        var batch = Batch;
        var rows = _store.Pending(batch);
        if (!await ProcessAsync(rows, cancellationToken))
        {
            return false;
        }

        // Realtime files first: the retro-scan goes on only while none waits.
        return rows.Count == batch || (rows.Count == 0 && await RetroStepAsync(cancellationToken));
    }

    // Files taken from the queue at once: enough that the engine's scans in flight stay full across a batch.
    private int Batch => Math.Max(BatchSize, 2 * Math.Max(1, _engine.MaxConcurrentScans));

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var isBusy = false;
            try
            {
                isBusy = await StepAsync(cancellationToken);
                SaveStatus();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Log.StepFailed(_logger, _engine.Name, ex); // one bad step must not end the worker
            }

            if (isBusy)
            {
                continue;
            }

            IsIdle = _store.PendingCount() == 0;
            try
            {
                using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var wait = RetroDelay() is { } due ? TimeSpan.FromMilliseconds(Math.Clamp(due.TotalMilliseconds, 10, IdlePoll.TotalMilliseconds)) : IdlePoll;
                await Task.WhenAny(Task.Delay(wait, _time, delay.Token), _wake.Reader.WaitToReadAsync(delay.Token).AsTask());
                await delay.CancelAsync();
                _wake.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }
    }

    // The batch's files are judged at once (as many as the engine scans at once), then concluded one by one in queue
    // order; false when the engine could not answer some of them (those stay queued).
    private async Task<bool> ProcessAsync(IReadOnlyList<(long Id, string Alert)> rows, CancellationToken cancellationToken)
    {
        var files = new FileAlert?[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            using var document = JsonDocument.Parse(rows[i].Alert);
            files[i] = FileAlert.TryParse(document.RootElement);
        }

        var judged = await JudgeAllAsync(files, isRetro: false, cancellationToken);
        var isAnswered = true;
        try
        {
            for (var i = 0; i < rows.Count; i++)
            {
                if (files[i] is { } file && judged[i] is { } judgement
                    && await ConcludeAsync(file, judgement, $"engine:{_engine.Name}:{rows[i].Id}", isRetro: false) == EngineOutcome.Unavailable)
                {
                    isAnswered = false; // the file stays queued
                    continue;
                }

                _store.Complete(rows[i].Id);
            }
        }
        finally
        {
            Close(judged);
        }

        return isAnswered;
    }

    /// <summary>What one file was judged: its open stream (kept for the message), SHA-256, identity and result.</summary>
    private sealed record Judgement(FileStream Stream, string Sha256, string? Identity, EngineResult? Result, EngineOutcome? Earlier);

    // Up to the engine's MaxConcurrentScans files opened, hashed and scanned at once; null for a file that was not.
    private async Task<Judgement?[]> JudgeAllAsync(IReadOnlyList<FileAlert?> files, bool isRetro, CancellationToken cancellationToken)
    {
        var judged = new Judgement?[files.Count];
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, files.Count),
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _engine.MaxConcurrentScans), CancellationToken = cancellationToken },
                async (i, token) => judged[i] = files[i] is { } file ? await JudgeAsync(file, isRetro, token) : null);
        }
        catch
        {
            Close(judged);
            throw;
        }

        return judged;
    }

    private static void Close(Judgement?[] judged)
    {
        foreach (var judgement in judged)
        {
            judgement?.Stream.Dispose();
        }
    }

    // Opens, hashes and scans one file (the verdict cache first). Null when the file cannot be opened or is empty.
    // Safe to run for several files at once: it only reads what was judged, the store locks, the counters are atomic.
    private async Task<Judgement?> JudgeAsync(FileAlert file, bool isRetro, CancellationToken cancellationToken)
    {
        // Never by path: the descriptor, opened without following a symlink, is what every engine reads.
        var stream = RegularFile.TryOpen(file.Path, out var error);
        if (stream is null)
        {
            Log.NotScanned(_logger, file.Path, _engine.Name, error ?? "cannot be opened");
            return null;
        }

        try
        {
            // This may run on the thread that completed the previous scan (clamd's session reader runs its callers'
            // continuations): a large file is hashed on the thread pool, so that the replies to the other scans in
            // flight are not held up behind it.
            if (stream.Length > LargeFile)
            {
                await Task.Yield();
            }

            // Only the SHA-256 the cache is asked with: MD5 and SHA-1 are read for a file something is said of (most
            // files are clean, and a repeated clean content is then one SHA-256 and a lookup in memory).
            var (sha256, length) = EngineHashing.Sha256(stream.SafeFileHandle);
            if (length == 0)
            {
                await stream.DisposeAsync();
                return null;
            }

            // The retro-scan and a realtime scan can meet on one file (written while the baseline was walked): the one
            // that comes second says nothing of the very same file (inode, change time and content) the other judged,
            // when the other said all it would say.
            var identity = Identity(stream, sha256);
            if (identity is not null && _judgedVersion == _engine.Version && _judged.TryGetValue(identity, out var earlier) && earlier.IsRetro != isRetro
                && SaidAll(earlier.IsRetro, earlier.Outcome))
            {
                return new Judgement(stream, sha256, identity, null, earlier.Outcome);
            }

            var result = await VerdictAsync(stream, sha256, cancellationToken);
            return new Judgement(stream, sha256, identity, result, null);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    // Publishes what is to be said of a judged file: every answer but Clean for a realtime file, only a detection for
    // a retro-scanned one (a baseline full of large files is not one alert each). One at a time, in order, never
    // while files are being judged (so what was judged is only written here).
    private async Task<EngineOutcome?> ConcludeAsync(FileAlert file, Judgement judgement, string key, bool isRetro)
    {
        if (judgement.Result is not { } result)
        {
            return judgement.Earlier;
        }

        if (result.Outcome == EngineOutcome.Unavailable)
        {
            await ReportStateAsync(EngineMessages.Down, result.Detail ?? "the engine cannot be reached");
            return result.Outcome;
        }

        if (judgement.Identity is { } identity)
        {
            Remember(identity, isRetro, result.Outcome);
        }

        if (result.Outcome == EngineOutcome.Detected || (!isRetro && result.Outcome != EngineOutcome.Clean))
        {
            var hashes = EngineHashing.All(judgement.Stream.SafeFileHandle);
            if (hashes.Sha256 != judgement.Sha256)
            {
                // Written again while it was judged: the verdict is of a content no longer there, and FIM reports
                // the new one, which is judged then.
                Log.NotScanned(_logger, file.Path, _engine.Name, "its content changed while it was scanned");
                return null;
            }

            Log.Result(_logger, file.Path, _engine.Name, result.Outcome.ToString(), result.Name ?? result.Detail ?? "");
            await _sink.PublishBatchAsync([EngineMessages.Result(file, hashes, result, isRetro)], [key], CancellationToken.None);
        }

        return result.Outcome;
    }

    // What was judged under the current engine version, by which side: bounded, and forgotten when the version changes.
    private const int JudgedLimit = 16_384;
    private readonly Dictionary<string, (bool IsRetro, EngineOutcome Outcome)> _judged = new(StringComparer.Ordinal);
    // Scans in flight by SHA-256 and engine version: files of one content judged at once (one batch) are scanned once.
    private readonly Dictionary<(string Sha256, string Version), Task<EngineResult>> _scanning = [];

    // The verdict on one content: the cache, else a scan of it already in flight, else a scan of this file.
    private async Task<EngineResult> VerdictAsync(FileStream stream, string sha256, CancellationToken cancellationToken)
    {
        if (_engine.Version is not { } version)
        {
            Interlocked.Increment(ref _scans);
            return await _engine.ScanAsync(stream, cancellationToken);
        }

        var key = (sha256, version);
        var scan = new TaskCompletionSource<EngineResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<EngineResult>? running;
        lock (_scanning)
        {
            if (!_scanning.TryGetValue(key, out running))
            {
                _scanning.Add(key, scan.Task);
            }
        }

        if (running is not null)
        {
            Interlocked.Increment(ref _cacheHits);
            return await running;
        }

        try
        {
            EngineResult result;
            if (_store.TryGetVerdict(sha256, _engine.Name, version) is { } cached)
            {
                Interlocked.Increment(ref _cacheHits);
                result = cached;
            }
            else
            {
                Interlocked.Increment(ref _scans);
                result = await _engine.ScanAsync(stream, cancellationToken);
                if (result.IsCacheable)
                {
                    _store.PutVerdict(sha256, result);
                }
            }

            scan.SetResult(result);
            return result;
        }
        catch (Exception exception)
        {
            scan.SetException(exception); // a file that joined fails as this one does
            _ = scan.Task.Exception; // observed here when none joined
            throw;
        }
        finally
        {
            lock (_scanning)
            {
                _scanning.Remove(key);
            }
        }
    }

    private string? _judgedVersion;

    // A realtime scan says every outcome but Clean; the retro-scan only a detection, so its "not scanned" (over the
    // size limit) or its failure is still to be said by the realtime scan of the same file.
    private static bool SaidAll(bool isRetro, EngineOutcome outcome) =>
        !isRetro || outcome is EngineOutcome.Clean or EngineOutcome.Detected;

    private static string? Identity(FileStream stream, string sha256) =>
        LibC.FStat(stream.SafeFileHandle.Fd(), out var stat) == 0
            ? $"{stat.Dev}:{stat.Ino}:{stat.CTime.Seconds}.{stat.CTime.Nanoseconds}:{sha256}"
            : null;

    private void Remember(string identity, bool isRetro, EngineOutcome outcome)
    {
        if (_judgedVersion != _engine.Version || _judged.Count >= JudgedLimit)
        {
            _judged.Clear();
            _judgedVersion = _engine.Version;
        }

        _judged.TryAdd(identity, (isRetro, outcome));
    }

    private async Task ReloadAsync()
    {
        var reload = _yara!.Reload();
        if (!reload.IsChanged)
        {
            return;
        }

        if (reload.Errors.Count > 0)
        {
            var detail = string.Join("; ", reload.Errors.Select(e => e.ToString()))
                + (_yara.Version is null ? "; no YARA rules are in force, files wait" : "; the previous rules stay in force");
            Log.ReloadFailed(_logger, detail);
            await _sink.PublishAsync(EngineMessages.State(_yara.Name, _yara.Version, EngineMessages.ReloadError, detail), CancellationToken.None);
            return;
        }

        Log.Reloaded(_logger, _yara.Files.Count, reload.Version ?? "");
    }

    private async Task CheckHealthAsync(CancellationToken cancellationToken)
    {
        var health = await _clamAv!.CheckAsync(cancellationToken);
        switch (health)
        {
            case ClamAvHealth.Up:
                if (_reportedState is not null)
                {
                    Log.EngineBack(_logger, _clamAv.Name, _clamAv.Endpoint.ToString());
                }

                _reportedState = null;
                break;
            case ClamAvHealth.NoDatabase:
                await ReportStateAsync(EngineMessages.NoDatabase, _clamAv.Problem ?? "no database");
                break;
            default:
                await ReportStateAsync(EngineMessages.Down, _clamAv.Problem ?? "down");
                break;
        }
    }

    // Once per episode: a clamd that stays down is one alert, not one per file or per check.
    private async Task ReportStateAsync(string state, string detail)
    {
        if (_reportedState == state)
        {
            return;
        }

        _reportedState = state;
        Log.EngineState(_logger, _engine.Name, state, detail);
        await _sink.PublishAsync(EngineMessages.State(_engine.Name, _engine.Version, state, detail), CancellationToken.None);
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return; // once: a host that stops twice (a failed start, then its stop) finds it stopped
        }

        await _stopping.CancelAsync();
        if (_worker is not null)
        {
            await _worker.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        _stopping.Dispose();
        _yara?.Dispose();
        _clamAv?.Dispose();
        _store.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.EngineAlertNotJson, LogLevel.Warning, "An alert is not JSON and was skipped: {Reason}")]
        public static partial void AlertNotJson(ILogger logger, string reason);

        [LoggerMessage(EventIds.EngineNotScanned, LogLevel.Debug, "{FilePath} not scanned by {Engine}: {Reason}")]
        public static partial void NotScanned(ILogger logger, string filePath, string engine, string reason);

        [LoggerMessage(EventIds.EngineResult, LogLevel.Information, "{FilePath}: {Engine} {Outcome} {Detail}")]
        public static partial void Result(ILogger logger, string filePath, string engine, string outcome, string detail);

        [LoggerMessage(EventIds.EngineReloadFailed, LogLevel.Error, "YARA rules do not compile: {Detail}")]
        public static partial void ReloadFailed(ILogger logger, string detail);

        [LoggerMessage(EventIds.EngineReloaded, LogLevel.Information, "YARA rules compiled from {Count} file(s), version {Version}")]
        public static partial void Reloaded(ILogger logger, int count, string version);

        [LoggerMessage(EventIds.EngineState, LogLevel.Warning, "{Engine} is {State}: {Detail}")]
        public static partial void EngineState(ILogger logger, string engine, string state, string detail);

        [LoggerMessage(EventIds.EngineBack, LogLevel.Information, "{Engine} answers again at {Peer}")]
        public static partial void EngineBack(ILogger logger, string engine, string peer);

        [LoggerMessage(EventIds.EngineStepFailed, LogLevel.Error, "The {Engine} worker failed a step; retrying")]
        public static partial void StepFailed(ILogger logger, string engine, Exception exception);
    }
}
