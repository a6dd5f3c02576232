using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Intel.LocalLists;
using Vigil.Intel.Selection;
using Vigil.Intel.VirusTotal;

namespace Vigil.Intel;

/// <summary>
/// integratord's VirusTotal integration, in process: receives every written alert, selects the FIM alerts the
/// <c>&lt;integration&gt;</c> block asks for, answers from local lists and the verdict cache at once, and queues the
/// rest durably (SQLite) for a single worker that spends the VirusTotal quota: realtime first, newest first, one
/// request per hash, backing off on 429 and on outages. Every result goes to the event sink as the message
/// Wazuh's script would send (queue 1, location <c>[id] (name) ip-&gt;virustotal</c>).
/// </summary>
internal sealed partial class IntelService : IAlertSink, IFileIntelligence
{
    private const string EpisodeKey = "quota.episode";
    private const string RefusalsKey = "quota.refusals";
    private const string LastRefusalKey = "quota.last_refusal";

    private readonly IntelOptions _options;
    private readonly AlertSelector _selector;
    private readonly IEventSink _sink;
    private readonly IntelStore _store;
    private readonly bool _ownsStore;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LocalIntel _local;
    private readonly VerdictCache _cache;
    private readonly QuotaGate _quota;
    private readonly HttpClient? _http;
    private readonly bool _ownsHttp;
    private readonly VirusTotalClient? _client;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _worker;
    private bool _isRejected;
    private int _transientFailures;
    private bool _isOutageReported;
    private DateTimeOffset _retryAt;

    /// <summary>The manager's constructor: one instance per virustotal (or custom-vigil-lists) integration block.</summary>
    public IntelService(IntegrationOptions integration, IEventSink sink, string databasePath, TimeProvider timeProvider, ILogger? logger = null)
        : this(IntelOptions.FromIntegration(integration), new AlertSelector(integration), sink, IntelStore.Open(databasePath), timeProvider, logger, http: null)
    {
    }

    internal IntelService(
        IntelOptions options, AlertSelector selector, IEventSink sink, IntelStore store, TimeProvider timeProvider,
        ILogger? logger, HttpClient? http, bool ownsStore = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _selector = selector;
        _sink = sink;
        _store = store;
        _ownsStore = ownsStore;
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _local = LocalIntel.FromOptions(options);
        _cache = new VerdictCache(store, options, timeProvider);
        _quota = new QuotaGate(store, options, timeProvider);
        if (!options.ApiKey.IsEmpty)
        {
            _ownsHttp = http is null;
            _http = http ?? VirusTotalClient.CreateHttpClient(options);
            _client = new VirusTotalClient(_http, options);
        }
    }

    /// <summary>The quota, verdict cache and lookups in flight shared with other managers; set before <see cref="Start"/>.</summary>
    internal ISharedIntel? Shared { get; set; }

    // How long a claimed lookup stays claimed if the manager that claimed it dies during the request.
    private static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(5);

    private string? _keyId;

    private string KeyId => _keyId ??= Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(_options.ApiKey.Reveal())));

    /// <summary>Lookups waiting in the durable queue.</summary>
    public int PendingCount => _store.PendingCount();

    private long _cacheHits;
    private long _cacheMisses;

    /// <summary>The integration's state for the manager's status page: quota used in the current windows, queue, cache.</summary>
    public IntelServiceStatus Status()
    {
        var now = _time.GetUtcNow();
        var dayStart = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        return new IntelServiceStatus(
            Enabled: _client is not null,
            MinuteQuota: _options.RequestsPerMinute,
            MinuteUsed: _store.RequestsSince(now.AddMinutes(-1)).Count,
            DayQuota: _options.RequestsPerDay,
            DayUsed: _store.RequestsSince(dayStart).Count,
            QueueLength: _store.PendingCount(),
            CacheHits: Interlocked.Read(ref _cacheHits),
            CacheMisses: Interlocked.Read(ref _cacheMisses),
            WaitingUntil: WaitingUntil);
    }

    /// <summary>When the worker is waiting for a quota window or a back-off to end; null when it is working or idle.</summary>
    internal DateTimeOffset? WaitingUntil { get; private set; }

    /// <summary>Whether the worker has nothing to do (empty queue, or stopped by a rejected key).</summary>
    internal bool IsIdle { get; private set; }

    internal IntelStore Store => _store;

    /// <summary>The hash lists and the verdict cache, which on-access prevention consults too.</summary>
    internal LocalIntel Local => _local;

    internal VerdictCache Cache => _cache;

    /// <summary>Starts the lookup worker; lookups persisted by an earlier run are picked up.</summary>
    public void Start() => _worker ??= Task.Run(() => RunAsync(_stopping.Token));

    /// <summary>
    /// Takes one alert as <c>alerts.json</c> holds it. Returns after the lookup is persisted, or after its result
    /// was published when a local list or the cache answers.
    /// </summary>
    public ValueTask OnAlertAsync(string alertJson, CancellationToken cancellationToken) => OnAlertAsync(alertJson, null, cancellationToken);

    /// <summary>Whether this integration takes the alert (its rule ids, groups, level and location).</summary>
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

    /// <summary>
    /// As <see cref="OnAlertAsync(string, CancellationToken)"/>, for a host that may hand the same alert again after a
    /// crash (<paramref name="key"/> names it): an answer from a list or the cache is published with that key, and an
    /// alert whose lookup is already queued is not queued twice.
    /// </summary>
    public async ValueTask OnAlertAsync(string alertJson, string? key, CancellationToken cancellationToken)
    {
        FileAlert? file;
        try
        {
            using var document = JsonDocument.Parse(alertJson);
            if (!_selector.IsMatch(document.RootElement))
            {
                return;
            }

            file = FileAlert.TryParse(document.RootElement);
        }
        catch (JsonException ex)
        {
            Log.AlertNotJson(_logger, ex.Message);
            return;
        }

        if (file is null)
        {
            return;
        }

        if (file.IsEmptyFile)
        {
            // A file still being written, or truly empty: VirusTotal's verdict on the empty file says nothing.
            Log.EmptyFileSkipped(_logger, file.Path);
            return;
        }

        if (_local.TryMatch(file) is { } hit)
        {
            await PublishKeyedAsync(hit, key, cancellationToken);
            return;
        }

        if (_client is null)
        {
            return;
        }

        if (_cache.TryGet(file.LookupHash) is { } verdict)
        {
            Interlocked.Increment(ref _cacheHits);
            await PublishKeyedAsync(VirusTotalMessages.Result(file, verdict, _options, isCached: true), key, cancellationToken);
            return;
        }

        Interlocked.Increment(ref _cacheMisses);
        _store.Enqueue(file, onlyOnce: key is not null);
        _wake.Writer.TryWrite(true);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_worker is not null)
        {
            try
            {
                await _worker;
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stopping.Dispose();
        if (_ownsHttp)
        {
            _http?.Dispose();
        }

        if (_ownsStore)
        {
            _store.Dispose();
        }
    }

    /// <summary>Runs worker steps until the queue is empty or must wait (the drop-in's single pass).</summary>
    internal async Task<StepResult> RunUntilBlockedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await StepAsync(cancellationToken);
            // A back-off of zero (the drop-in's) retries at once, up to `retries` times as Wazuh's script does.
            var isRetryNow = result.Kind == StepKind.Waiting && result.Until <= _time.GetUtcNow() && _transientFailures <= _options.Retries;
            if (result.Kind != StepKind.Progressed && !isRetryNow)
            {
                return result;
            }
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            StepResult result;
            try
            {
                result = await StepAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // One bad step (a full disk, a sink that threw) must not end the worker: wait, then go on.
                Log.StepFailed(_logger, ex);
                result = new StepResult(StepKind.Waiting, _time.GetUtcNow() + _options.InitialBackoff);
            }

            if (result.Kind == StepKind.Progressed)
            {
                continue;
            }

            try
            {
                await WaitAsync(result, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }
    }

    private async Task WaitAsync(StepResult result, CancellationToken cancellationToken)
    {
        Task wake = _wake.Reader.WaitToReadAsync(cancellationToken).AsTask();
        if (Shared is { } shared)
        {
            // A verdict another manager stored may be the one this queue waits for.
            wake = Task.WhenAny(wake, shared.VerdictStored);
        }

        if (result.Kind == StepKind.Waiting)
        {
            var delay = result.Until - _time.GetUtcNow();
            if (delay > TimeSpan.Zero)
            {
                using var cancelDelay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var timer = Task.Delay(delay, _time, cancelDelay.Token);

                // Published once the timer is set: a clock moved to this moment then fires it (published before, a
                // clock moved in between would set the timer that much later, past the moment shown).
                WaitingUntil = result.Until;
                await Task.WhenAny(timer, wake);
                await cancelDelay.CancelAsync();
            }
        }
        else
        {
            IsIdle = true;
            await wake;
        }

        cancellationToken.ThrowIfCancellationRequested();
        _wake.Reader.TryRead(out _);
        WaitingUntil = null;
        IsIdle = false;
    }

    internal async Task<StepResult> StepAsync(CancellationToken cancellationToken)
    {
        if (_isRejected || _client is null)
        {
            return new StepResult(StepKind.Stopped, default);
        }

        var now = _time.GetUtcNow();
        if (_retryAt > now)
        {
            return new StepResult(StepKind.Waiting, _retryAt);
        }

        if (_store.NextHash() is not { } hash)
        {
            return new StepResult(StepKind.Idle, default);
        }

        var first = _store.Pending(hash)[0].File;
        if (_cache.TryGet(hash) is { } cached)
        {
            // Answered meanwhile (another file with this hash), or by a previous process.
            await CompleteAsync(hash, cached, isCached: true);
            return new StepResult(StepKind.Progressed, default);
        }

        if (Shared is { } sharedCache && sharedCache.TryGetVerdict(hash) is { } stored)
        {
            // Looked up by another manager.
            _cache.Put(stored);
            await CompleteAsync(hash, stored, isCached: true);
            return new StepResult(StepKind.Progressed, default);
        }

        if (_quota.Check() is { } block)
        {
            if (block.Kind == QuotaKind.Daily)
            {
                await ReportQuotaOnceAsync(first, 0, QuotaKind.Daily, block.Until,
                    $"requests_per_day ({_options.RequestsPerDay}) is spent; lookups resume at 00:00 UTC");
            }

            return new StepResult(StepKind.Waiting, block.Until);
        }

        if (Shared is { } shared)
        {
            if (!shared.TryClaim(hash, ClaimLease))
            {
                // Another manager is looking it up: its verdict arrives by notification (or the claim's lease ends).
                return new StepResult(StepKind.Waiting, now + TimeSpan.FromSeconds(5));
            }

            if (shared.TryGetVerdict(hash) is { } justStored)
            {
                // Stored between the first look and the claim.
                shared.Release(hash);
                _cache.Put(justStored);
                await CompleteAsync(hash, justStored, isCached: true);
                return new StepResult(StepKind.Progressed, default);
            }

            if (shared.TryAcquire(KeyId, _options.RequestsPerMinute, _options.RequestsPerDay) is { } sharedBlock)
            {
                shared.Release(hash);
                if (sharedBlock.Kind == QuotaKind.Daily)
                {
                    await ReportQuotaOnceAsync(first, 0, QuotaKind.Daily, sharedBlock.Until,
                        $"requests_per_day ({_options.RequestsPerDay}) is spent by the managers sharing this key; lookups resume at 00:00 UTC");
                }

                return new StepResult(StepKind.Waiting, sharedBlock.Until);
            }
        }

        // A request already sent when the service stops gets a grace period to finish, so its answer is cached and
        // delivered instead of the quota being spent again on the same hash after the restart.
        using var request = new CancellationTokenSource();
        await using var stopping = cancellationToken.Register(() => request.CancelAfter(StopGrace));
        LookupOutcome outcome;
        try
        {
            var client = _client;
            outcome = await _quota.SendAsync(() => client.GetFileReportAsync(hash, request.Token));
        }
        finally
        {
            SharedAnswered();
        }

        now = _time.GetUtcNow();
        if (outcome is not LookupOutcome.Verdict)
        {
            ReleaseClaim(hash);
        }

        switch (outcome)
        {
            case LookupOutcome.Verdict verdict:
                if (!verdict.Value.IsFound && _options.Upload
                    && await TryUploadAsync(hash, [.. _store.Pending(hash).Select(p => p.File)], cancellationToken) is { } analysed)
                {
                    verdict = new LookupOutcome.Verdict(analysed);
                }

                _cache.Put(verdict.Value);
                Shared?.PutVerdict(verdict.Value, now + _cache.Lifetime(verdict.Value));
                _store.ClearAttempts(hash);
                _transientFailures = 0;
                _isOutageReported = false;
                _store.SetState(RefusalsKey, null);
                EndQuotaEpisodeIfOver(now);

                await CompleteAsync(hash, verdict.Value, isCached: false);
                return new StepResult(StepKind.Progressed, default);

            case LookupOutcome.QuotaExceeded quota:
                var refusals = (int.TryParse(_store.GetState(RefusalsKey), out var r) ? r : 0) + 1;
                _store.SetState(RefusalsKey, refusals.ToString(CultureInfo.InvariantCulture));
                _store.SetState(LastRefusalKey, now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
                // VirusTotal's message names every quota at once. A minute quota clears within a minute; three
                // refusals in a row a minute apart mean the day's quota is spent, and that resets at 00:00 UTC.
                var kind = quota.Kind != QuotaKind.Unknown ? quota.Kind : refusals >= 3 ? QuotaKind.Daily : QuotaKind.Minute;
                var until = quota.RetryAfter is { } after ? now + after
                    : kind == QuotaKind.Daily ? QuotaGate.NextUtcMidnight(now)
                    : now + TimeSpan.FromMinutes(1);
                _quota.BackOff(until, kind);
                Log.QuotaExceeded(_logger, kind.ToString(), until);
                await ReportQuotaOnceAsync(first, 429, kind, until, null);
                return new StepResult(StepKind.Waiting, until);

            case LookupOutcome.Rejected rejected:
                _isRejected = true;
                Log.KeyRejected(_logger, rejected.HttpStatus, rejected.Code, _client.Peer);
                await PublishAsync(VirusTotalMessages.Error(VirusTotalMessages.CredentialsError, first, _options, rejected.HttpStatus,
                    $"{_client.Peer} rejected the API key ({rejected.Code}); lookups stay queued until Vigil restarts with a valid key"));
                return new StepResult(StepKind.Stopped, default);

            case LookupOutcome.TimedOut or LookupOutcome.Transient:
                _transientFailures++;
                _retryAt = now + Backoff(_transientFailures);
                var (error, status, detail) = outcome is LookupOutcome.Transient t
                    ? (t.HttpStatus, t.HttpStatus, t.Detail)
                    : (VirusTotalMessages.TimeoutError, 0, ((LookupOutcome.TimedOut)outcome).Detail);
                Log.TransientFailure(_logger, detail, _retryAt);
                if (_transientFailures > _options.Retries && !_isOutageReported)
                {
                    _isOutageReported = true;
                    await PublishAsync(VirusTotalMessages.Error(error, first, _options, status, detail, Extra(null, _retryAt)));
                }

                return new StepResult(StepKind.Waiting, _retryAt);

            case LookupOutcome.Malformed malformed:
                var attempts = _store.IncrementAttempts(hash);
                if (attempts > _options.Retries)
                {
                    Log.GaveUp(_logger, hash, malformed.Detail);
                    await PublishAsync(VirusTotalMessages.Error(malformed.HttpStatus, first, _options, malformed.HttpStatus, malformed.Detail));
                    foreach (var (id, _) in _store.Pending(hash))
                    {
                        _store.MarkFailed(id);
                    }

                    _store.ClearAttempts(hash);
                    return new StepResult(StepKind.Progressed, default);
                }

                _retryAt = now + Backoff(attempts);
                return new StepResult(StepKind.Waiting, _retryAt);

            default:
                throw new InvalidOperationException($"unexpected outcome {outcome}");
        }
    }

    // Best effort: a claim left behind ends with its lease.
    // The shared quota's slot of the request just made counts from now (after VirusTotal saw it); a database that
    // cannot be reached leaves it counting as in flight, the safe side.
    private void SharedAnswered()
    {
        try
        {
            Shared?.Answered(KeyId);
        }
        catch (Core.VigilException)
        {
        }
    }

    private void ReleaseClaim(string hash)
    {
        try
        {
            Shared?.Release(hash);
        }
        catch (Core.VigilException)
        {
        }
    }

    private TimeSpan Backoff(int failures)
    {
        var seconds = _options.InitialBackoff.TotalSeconds * Math.Pow(2, Math.Min(failures - 1, 20));
        return TimeSpan.FromSeconds(Math.Min(seconds, _options.MaxBackoff.TotalSeconds));
    }

    /// <summary>Publishes a result for every file waiting on this hash, then removes each from the queue.</summary>
    private async Task CompleteAsync(string hash, FileVerdict verdict, bool isCached)
    {
        foreach (var (id, file) in _store.Pending(hash))
        {
            // Not cancellable: once the answer is in, each waiting file gets its event and leaves the queue, so
            // a shutdown in the middle neither loses nor repeats one.
            // Keyed by the lookup and its alert: a crash between the two steps publishes again, and a sink that
            // remembers keys takes it once.
            await PublishKeyedAsync(VirusTotalMessages.Result(file, verdict, _options, isCached), $"lookup:{id}:{file.AlertId}", CancellationToken.None);
            _store.Complete(id);
        }
    }

    /// <summary>One rate-limit message (Wazuh's 204, rule 87101) per quota episode, however many files wait.</summary>
    private async Task ReportQuotaOnceAsync(FileAlert file, int httpStatus, QuotaKind kind, DateTimeOffset until, string? detail)
    {
        if (_store.GetState(EpisodeKey) is not null)
        {
            return;
        }

        _store.SetState(EpisodeKey, kind.ToString());
        await PublishAsync(VirusTotalMessages.Error(VirusTotalMessages.RateLimitError, file, _options, httpStatus, detail,
            Extra(kind == QuotaKind.Daily ? "daily" : "minute", until)));
    }

    /// <summary>
    /// An episode is over once lookups succeed a whole quota window after the last refusal, or on a new UTC day for
    /// the daily quota. A key whose real limit is below requests_per_minute keeps meeting 429s between successes;
    /// that is still one episode.
    /// </summary>
    private void EndQuotaEpisodeIfOver(DateTimeOffset now)
    {
        if (_store.GetState(EpisodeKey) is not { } kind)
        {
            return;
        }

        var last = long.TryParse(_store.GetState(LastRefusalKey), out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : DateTimeOffset.MinValue;
        var isOver = kind == nameof(QuotaKind.Daily) ? now.UtcDateTime.Date > last.UtcDateTime.Date : now - last >= TimeSpan.FromMinutes(2);
        if (isOver)
        {
            _store.SetState(EpisodeKey, null);
            _store.SetState(LastRefusalKey, null);
        }
    }

    private IEnumerable<KeyValuePair<string, object?>> Extra(string? quota, DateTimeOffset retryAt)
    {
        if (quota is not null)
        {
            yield return new("quota", quota);
        }

        yield return new("retry_at", retryAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        yield return new("pending", _store.PendingCount());
    }

    private ValueTask PublishAsync(EventMessage message) => _sink.PublishAsync(message, CancellationToken.None);

    private ValueTask PublishKeyedAsync(EventMessage message, string? key, CancellationToken cancellationToken) =>
        key is null ? _sink.PublishAsync(message, cancellationToken) : _sink.PublishBatchAsync([message], [key], cancellationToken);
}

/// <summary>One integration's state: <see cref="Enabled"/> is false when no VirusTotal key is set (local lists only).</summary>
internal sealed record IntelServiceStatus(
    bool Enabled, int MinuteQuota, int MinuteUsed, int DayQuota, int DayUsed, int QueueLength, long CacheHits, long CacheMisses, DateTimeOffset? WaitingUntil);

internal enum StepKind
{
    Progressed,
    Waiting,
    Idle,
    Stopped,
}

internal readonly record struct StepResult(StepKind Kind, DateTimeOffset Until);
