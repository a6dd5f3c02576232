using System.Text;
using Microsoft.Extensions.Time.Testing;
using Vigil.Tests.Common;
using Vigil.Web.Index;

namespace Vigil.Manager.Tests;

/// <summary>
/// The alert index against alerts.json, the record: alerts a kill left in the index's backlog are indexed at the next
/// start, a new index is built from alerts.json, and nothing is indexed twice.
/// </summary>
public sealed class AlertIndexingTests : IDisposable
{
    private static readonly DateTimeOffset T0 = AlertSamples.Start;
    private readonly TempDirectory _temp = new();
    private readonly StringWriter _output = new();

    public void Dispose() => _temp.Dispose();

    private string AlertsJson => _temp.Combine("alerts.json");

    /// <summary>Writes <paramref name="count"/> alerts as alerts.json lines; returns them and each line's end offset.</summary>
    private (List<string> Alerts, List<long> Ends) WriteAlertsJson(int count, string prefix = "f")
    {
        var alerts = new List<string>();
        var ends = new List<long>();
        using var file = new FileStream(AlertsJson, FileMode.Append);
        for (var i = 0; i < count; i++)
        {
            // Paths outside ASCII, so that offsets are bytes, not characters.
            var at = T0.AddSeconds(i);
            var alert = AlertSamples.Fim(AlertSamples.NewId(at), at, "/root/PATH", "001", "web-01", rule: 554).Replace("PATH", $"{prefix}-é-{i}", StringComparison.Ordinal);
            file.Write(Encoding.UTF8.GetBytes(alert + "\n"));
            alerts.Add(alert);
            ends.Add(file.Position);
        }

        return (alerts, ends);
    }

    private AlertIndexing Open() => AlertIndexing.Open(_temp.Combine("data"), new WriterLogger(_output), TimeProvider.System);

    [Fact]
    public async Task CatchUp_IndexBehindAlertsJson_IndexesTheRestOnce()
    {
        var (alerts, ends) = WriteAlertsJson(10);
        await using (var indexing = Open())
        {
            // The index took the first four (and recorded where they end); the process died with six in its backlog.
            indexing.Index.Add(alerts[..4], ends[3]);
        }

        await using (var indexing = Open())
        {
            Assert.Equal(6, indexing.CatchUp(AlertsJson, ends[^1]));
            Assert.Equal(0, indexing.CatchUp(AlertsJson, ends[^1]));
            Assert.Equal(10, indexing.Index.Count());
            Assert.Equal(ends[^1], indexing.Index.SourceEnd);
            Assert.Equal("/root/f-é-9", indexing.Index.Chain("001", "/root/f-é-9").Steps.Single().Alert.File);
        }

        Assert.Contains("indexed 6 alerts from", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CatchUp_NewIndexBesideAnExistingAlertsJson_BuildsItFromTheStart()
    {
        var (_, ends) = WriteAlertsJson(5000); // more than one batch, and lines across read chunks
        await using var indexing = Open();

        Assert.Equal(5000, indexing.CatchUp(AlertsJson, ends[^1]));
        Assert.Equal(5000, indexing.Index.Count());
        Assert.Equal(ends[^1], indexing.Index.SourceEnd);
    }

    [Fact]
    public async Task CatchUp_OnlyUpToTheCommittedEnd()
    {
        // Alerts past the committed end are not yet the record (the writer cuts them at start); they are not indexed.
        var (_, ends) = WriteAlertsJson(10);
        await using var indexing = Open();

        Assert.Equal(7, indexing.CatchUp(AlertsJson, ends[6]));
        Assert.Equal(ends[6], indexing.Index.SourceEnd);
    }

    [Fact]
    public async Task AddAsync_RecordsWhereAlertsJsonEnds_SoARestartIndexesNothingTwice()
    {
        var (alerts, ends) = WriteAlertsJson(8);
        await using (var indexing = Open())
        {
            Assert.Equal(0, indexing.CatchUp(AlertsJson, 0));
            await indexing.AddAsync(Batch(alerts[..5]), ends[4], CancellationToken.None);
            await indexing.AddAsync(Batch(alerts[5..]), ends[7], CancellationToken.None);
        }

        await using (var indexing = Open())
        {
            Assert.Equal(0, indexing.CatchUp(AlertsJson, ends[^1]));
            Assert.Equal(8, indexing.Index.Count());
        }
    }

    [Fact]
    public async Task Stop_WhileTheStoreIsDown_LeavesEveryLaterBatchToo_SoTheNextStartIndexesThemAll()
    {
        var (alerts, ends) = WriteAlertsJson(10);
        var time = new FakeTimeProvider(T0);
        // The store refuses the first batch (unreachable) until the stop gives it up, then is back for the next one.
        var store = new RefusingStore(new AlertIndex(AlertIndex.PathUnder(_temp.Combine("data")), new AlertIndexOptions(), TimeProvider.System), refused: alerts[0]);
        var indexing = AlertIndexing.Open(store, new WriterLogger(_output), time, runsRetention: false);
        Assert.Equal(0, indexing.CatchUp(AlertsJson, 0));
        await indexing.AddAsync(Batch(alerts[..5]), ends[4], CancellationToken.None);
        await WaitAsync(() => store.Refusals > 0);
        await indexing.AddAsync(Batch(alerts[5..]), ends[9], CancellationToken.None);

        // The stop waits 10 s for the store, then gives the batch up; the clock is moved until it has.
        var stopped = indexing.DisposeAsync().AsTask();
        await WaitAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(1));
            return stopped.IsCompleted;
        });
        await stopped;
        Assert.Contains("did not take the last alerts", _output.ToString(), StringComparison.Ordinal);

        await using (var again = Open())
        {
            // Had the second batch been taken after the first was given up, its end would hide the first for ever.
            Assert.Equal(10, again.CatchUp(AlertsJson, ends[^1]));
            Assert.Equal(10, again.Index.Count());
        }
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = Environment.TickCount64 + 30_000;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, "condition not reached within 30 s");
            await Task.Delay(5);
        }
    }

    private sealed class UnreachableException() : System.Data.Common.DbException("the store is unreachable");

    /// <summary>An index that refuses, as unreachable, any batch holding <paramref name="refused"/>.</summary>
    private sealed class RefusingStore(AlertIndex inner, string refused) : IAlertStore
    {
        private int _refusals;

        public int Refusals => Volatile.Read(ref _refusals);

        public long? SourceEnd => inner.SourceEnd;

        public void SetSourceEnd(long end) => inner.SetSourceEnd(end);

        public int Add(IReadOnlyList<AlertDocument> documents, long? sourceEnd, Action<IndexedAlert>? added = null)
        {
            var first = Encoding.UTF8.GetBytes(refused);
            if (documents.Any(d => d.Utf8.Span.SequenceEqual(first)))
            {
                Interlocked.Increment(ref _refusals);
                throw new UnreachableException();
            }

            return inner.Add(documents, sourceEnd, added);
        }

        public AlertPage Search(AlertQuery query, DateTimeOffset from, DateTimeOffset to, int limit, int offset = 0) => inner.Search(query, from, to, limit, offset);

        public AlertHistogram Histogram(AlertQuery query, DateTimeOffset from, DateTimeOffset to, int buckets) => inner.Histogram(query, from, to, buckets);

        public IReadOnlyList<TermCount> Top(TopField field, AlertQuery query, DateTimeOffset from, DateTimeOffset to, int size) => inner.Top(field, query, from, to, size);

        public IndexedAlert? Get(string alertId) => inner.Get(alertId);

        public IReadOnlyList<IndexedAlert> After(long seq, int limit) => inner.After(seq, limit);

        public DetectionChain Chain(string agentId, string file) => inner.Chain(agentId, file);

        public IReadOnlyList<QuarantineEntry> Quarantine() => inner.Quarantine();

        public QuarantineEntry? QuarantineRecord(string agentId, long quarantineId) => inner.QuarantineRecord(agentId, quarantineId);

        public long Count() => inner.Count();

        public long ApplyRetention() => inner.ApplyRetention();

        public bool IsTransient(Exception error) => error is UnreachableException;

        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public async Task CatchUp_IndexFromBeforeOffsetsWereRecorded_StartsRecordingWithoutReindexing()
    {
        var (alerts, ends) = WriteAlertsJson(6);
        await using (var indexing = Open())
        {
            indexing.Index.Add(alerts); // no end recorded, as an index written by an earlier version
        }

        await using (var indexing = Open())
        {
            Assert.Equal(0, indexing.CatchUp(AlertsJson, ends[^1]));
            Assert.Equal(6, indexing.Index.Count());
            Assert.Equal(ends[^1], indexing.Index.SourceEnd);
        }
    }

    [Fact]
    public async Task CatchUp_AlertsJsonShorterThanRecorded_SaysSoAndGoesOnFromItsEnd()
    {
        var (alerts, ends) = WriteAlertsJson(6);
        await using (var indexing = Open())
        {
            indexing.Index.Add(alerts, ends[^1]);
        }

        File.Delete(AlertsJson);
        var (_, newEnds) = WriteAlertsJson(2, "g"); // a new, shorter alerts.json
        await using (var indexing = Open())
        {
            Assert.Equal(0, indexing.CatchUp(AlertsJson, newEnds[^1]));
            Assert.Equal(newEnds[^1], indexing.Index.SourceEnd);
            Assert.Equal(6, indexing.Index.Count());
        }

        Assert.Contains("before the", _output.ToString(), StringComparison.Ordinal);
        Assert.Contains("indexing from its end on", _output.ToString(), StringComparison.Ordinal);
    }

    private static AlertBatch Batch(IEnumerable<string> alerts)
    {
        var batch = new AlertBatch();
        foreach (var alert in alerts)
        {
            batch.Add(Encoding.UTF8.GetBytes(alert));
        }

        return batch;
    }
}
