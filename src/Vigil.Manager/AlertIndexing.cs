using System.Buffers;
using System.Data.Common;
using Microsoft.Extensions.Logging;
using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Web;
using Vigil.Web.Index;

namespace Vigil.Manager;

/// <summary>
/// Puts each batch of durably written alerts into the alert index and onto the live feed, on a writer task of its own,
/// so indexing never slows analysis or acknowledgements down unless the index falls a million alerts behind (then
/// analysis waits for it: nothing is dropped). alerts.json is the record: an index failure (disk full, a damaged file)
/// is logged once and the alerts stay in alerts.json.
/// </summary>
internal sealed class AlertIndexing(IAlertStore index, AlertFeed feed, ILogger logger) : IAsyncDisposable
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

    // Set when a stop gives up a batch the shared store could not take: every later batch is left too, so the recorded
    // end of alerts.json stays before the first alert not indexed, and the next start indexes them all from there.
    private bool _abandoned;
    private TimeProvider _time = TimeProvider.System;

    public IAlertStore Index => index;

    public AlertFeed Feed => feed;

    /// <summary>Alerts handed over and not yet indexed.</summary>
    public long Backlog => Interlocked.Read(ref _backlog);

    public static AlertIndexing Open(string dataDirectory, ILogger logger, TimeProvider time) =>
        Open(new AlertIndex(AlertIndex.PathUnder(dataDirectory), new AlertIndexOptions(), time), logger, time);

    /// <summary>Starts indexing into <paramref name="store"/> (the SQLite index, or one several managers share).</summary>
    public static AlertIndexing Open(IAlertStore store, ILogger logger, TimeProvider time, bool runsRetention = true)
    {
        var indexing = new AlertIndexing(store, new AlertFeed(), logger) { _time = time };
        indexing._writer = Task.Run(indexing.WriteAsync);
        if (runsRetention)
        {
            indexing._retention = Task.Run(() => indexing.RunRetentionAsync(time, indexing._stopping.Token));
        }

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

            await WriteAsync(pending, end);
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
                AlertIndexingLog.SourceReplaced(logger, alertsJson, committedEnd, from.Value);
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
                AlertIndexingLog.CatchingUp(logger, (committedEnd - start) >> 20, alertsJson);
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
                AlertIndexingLog.CaughtUp(logger, indexed, alertsJson);
            }
        }
        catch (Exception ex) when (ex is DbException or IOException)
        {
            AlertIndexingLog.CatchUpFailed(logger, alertsJson, ex.Message);
        }

        return indexed;
    }

    // Live views get the alerts as indexed; their text is decoded only when someone is watching.
    private int AddToIndex(IReadOnlyList<AlertDocument> alerts, long? alertsJsonEnd) =>
        index.Add(alerts, alertsJsonEnd, feed.SubscriberCount > 0 ? feed.Publish : null);

    private async Task WriteAsync(List<AlertDocument> alerts, long? alertsJsonEnd)
    {
        if (_abandoned)
        {
            return;
        }

        try
        {
            // A shared store that cannot be reached is waited for (each second, until the manager stops), so the
            // alerts reach it once it is back; the backlog bound makes analysis wait meanwhile. A batch it refuses is
            // reported and skipped, as with a local index.
            while (true)
            {
                try
                {
                    AddToIndex(alerts, alertsJsonEnd);
                    break;
                }
                catch (DbException ex) when (index.IsTransient(ex))
                {
                    if (_stopping.IsCancellationRequested)
                    {
                        _abandoned = true;
                        return;
                    }

                    if (!_failing)
                    {
                        _failing = true;
                        AlertIndexingLog.StoreUnavailable(logger, ex.Message, alerts.Count);
                    }

                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(1), _time, _stopping.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        // Stopping: this batch and what follows stay behind the recorded end, so the next start indexes them.
                        _abandoned = true;
                        return;
                    }
                }
            }

            if (_failing)
            {
                _failing = false;
                AlertIndexingLog.IndexBack(logger);
            }
        }
        catch (DbException ex) when (!_failing)
        {
            _failing = true;
            AlertIndexingLog.BatchFailed(logger, alerts.Count, ex.Message);
        }
        catch (DbException)
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
                catch (DbException ex)
                {
                    AlertIndexingLog.RetentionFailed(logger, ex.Message);
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
        if (_writer is not null && await Task.WhenAny(_writer, Task.Delay(TimeSpan.FromSeconds(10), _time)) != _writer)
        {
            AlertIndexingLog.LastAlertsLeft(logger);
        }

        await _stopping.CancelAsync();
        await (_writer ?? Task.CompletedTask);
        await (_retention ?? Task.CompletedTask);
        _stopping.Dispose();
        _room.Dispose();
        index.Dispose();
    }
}
