using Microsoft.Extensions.Time.Testing;
using Vigil.Core.Events;
using Vigil.Fim.Baseline;
using Vigil.Fim.Events;

namespace Vigil.Fim.Tests.Events;

public sealed class OutboxTests
{
    [Fact(Timeout = 30_000)]
    public async Task Run_MaxEpsReached_WaitsForNextSecondWithoutDropping()
    {
        using var temp = new TempDir();
        using var store = new BaselineStore(temp.Combine("fim.db"));
        for (var i = 0; i < 5; i++)
        {
            store.Enqueue(new EventMessage('1', "syscheck", $"m{i}"));
        }

        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var sink = new CollectingSink();
        var outbox = new Outbox(store.ConnectionString, sink, maxEps: 2, time);
        using var cts = new CancellationTokenSource();
        var run = outbox.RunAsync(cts.Token);

        await sink.WaitUntilAsync(() => sink.Messages.Count == 2, TimeSpan.FromSeconds(5), "first two");
        await Task.Delay(200);
        Assert.Equal(2, sink.Messages.Count);
        time.Advance(TimeSpan.FromSeconds(1));
        await sink.WaitUntilAsync(() => sink.Messages.Count == 4, TimeSpan.FromSeconds(5), "next two");
        time.Advance(TimeSpan.FromSeconds(1));
        await sink.WaitUntilAsync(() => sink.Messages.Count == 5, TimeSpan.FromSeconds(5), "last");

        Assert.Equal(["m0", "m1", "m2", "m3", "m4"], sink.Messages.Select(m => m.Message));
        await cts.CancelAsync();
        await run;
        Assert.False(outbox.HasBacklog());
    }

    [Fact]
    public void StreamGauge_AStreamOnly_NotAFewEventsNorAFullBatch()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var gauge = new StreamGauge(time);
        Assert.False(gauge.IsStreaming);

        // A file now and then (an added event, the removal's deleted event, 60 ms apart): no stream.
        for (var i = 0; i < 10; i++)
        {
            gauge.Sent(1);
            time.Advance(TimeSpan.FromMilliseconds(60));
            Assert.False(gauge.IsStreaming);
        }

        // After a quiet moment, 400 events a second, one at a time: a stream once 50 were sent within 250 ms.
        time.Advance(StreamGauge.Window);
        for (var i = 1; i <= 60; i++)
        {
            gauge.Sent(1);
            time.Advance(TimeSpan.FromMilliseconds(2.5));
            Assert.Equal(i >= 50, gauge.IsStreaming);
        }

        // A full batch (a burst): the next read does not wait.
        gauge.Sent(StreamGauge.FullBatch);
        Assert.False(gauge.IsStreaming);
        gauge.Sent(10);
        Assert.True(gauge.IsStreaming);

        // Quiet for longer than the window: the next event goes at once.
        time.Advance(StreamGauge.Window);
        Assert.False(gauge.IsStreaming);
    }

    [Fact(Timeout = 30_000)]
    public async Task Run_EventsStreamIn_Gathered_ButAFewGoAtOnce()
    {
        using var temp = new TempDir();
        using var store = new BaselineStore(temp.Combine("fim.db"));
        var sink = new BatchSink();

        // The gauge reads a fake clock, moved by the test: on a loaded machine (other test classes run alongside) the
        // test's own steps could take longer than the gauge's window in real time and so end the stream it measures.
        // The 50 ms the outbox lets a stream gather stays real.
        var time = new FakeTimeProvider();
        var outbox = new Outbox(store.ConnectionString, sink, maxEps: 0, time);
        using var cts = new CancellationTokenSource();
        var run = outbox.RunAsync(cts.Token);

        // A few events 300 ms apart (a file now and then): each goes alone.
        for (var i = 0; i < 3; i++)
        {
            store.Enqueue(new EventMessage('8', "syscheck", $"a{i}"));
            outbox.Notify();
            await sink.WaitUntilAsync(() => sink.Messages.Count == i + 1);
            time.Advance(TimeSpan.FromMilliseconds(300));
        }

        Assert.Equal([1, 1, 1], sink.Batches);

        // A stream: 60 events at once (however they go), then 20 more one by one, 1 ms apart, each notified alone.
        for (var i = 0; i < 60; i++)
        {
            store.Enqueue(new EventMessage('8', "syscheck", $"m{i}"));
        }

        outbox.Notify();
        await sink.WaitUntilAsync(() => sink.Messages.Count == 63);
        var before = sink.Batches.Count;
        for (var i = 60; i < 80; i++)
        {
            store.Enqueue(new EventMessage('8', "syscheck", $"m{i}"));
            outbox.Notify();
            await Task.Delay(1);
        }

        await sink.WaitUntilAsync(() => sink.Messages.Count == 83);
        Assert.Equal([.. Enumerable.Range(0, 3).Select(i => $"a{i}"), .. Enumerable.Range(0, 80).Select(i => $"m{i}")], sink.Messages);
        var streamed = sink.Batches.Skip(before).ToList();
        Assert.True(streamed.Count <= 10, $"{streamed.Count} batches for 20 events that streamed in: {string.Join(",", streamed)}");

        // Quiet for a while, then one event: it is not held back to gather others.
        time.Advance(TimeSpan.FromMilliseconds(500));
        await Task.Delay(100);
        store.Enqueue(new EventMessage('8', "syscheck", "alone"));
        outbox.Notify();
        await sink.WaitUntilAsync(() => sink.Messages.Count == 84);
        Assert.Equal(1, sink.Batches[^1]);

        await cts.CancelAsync();
        await run;
        Assert.False(outbox.HasBacklog());
    }

    // The positions go with fim.db's stream: kept when the file is reopened, another one for a new file (whose
    // sequence starts again at 1, and must not be taken for positions already sent).
    [Fact(Timeout = 30_000)]
    public async Task Run_PositionsAreTheSequences_InAStreamNamedByTheFile()
    {
        using var temp = new TempDir();
        var path = temp.Combine("fim.db");
        string epoch;
        using (var store = new BaselineStore(path))
        {
            epoch = await SendAsync(store, 2);
        }

        using (var reopened = new BaselineStore(path))
        {
            Assert.Equal(epoch, await SendAsync(reopened, 1));
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); // as after a restart: no connection to the old file is kept
        File.Delete(path);
        using var recreated = new BaselineStore(path);
        Assert.NotEqual(epoch, await SendAsync(recreated, 1));

        static async Task<string> SendAsync(BaselineStore store, int count)
        {
            var sink = new KeySink();
            var outbox = new Outbox(store.ConnectionString, sink, maxEps: 0, new FakeTimeProvider());
            Commit(store, "m", count);
            using var cts = new CancellationTokenSource();
            var run = outbox.RunAsync(cts.Token);
            await sink.WaitUntilAsync(() => sink.Keys.Count == count);
            await cts.CancelAsync();
            await run;
            var stream = Assert.Single(sink.Keys.Select(k => k[..k.LastIndexOf(':')]).Distinct());
            Assert.Matches("^fim-[0-9a-f]{32}$", stream);
            var positions = sink.Keys.Select(k => long.Parse(k[(k.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(positions.Order(), positions);
            Assert.Equal(count, positions.Distinct().Count());
            return stream;
        }
    }

    // One transaction of the baseline writer's kind: the rows, committed.
    private static void Commit(BaselineStore store, string prefix, int count)
    {
        store.Begin();
        for (var i = 0; i < count; i++)
        {
            store.Enqueue(new EventMessage('8', "syscheck", $"{prefix}{i}"));
        }

        store.Commit();
    }

    /// <summary>A sink without streams of its own: the positions reach it as keys (the interface's default).</summary>
    private sealed class KeySink : IEventSink
    {
        private readonly Lock _gate = new();
        private readonly List<string> _keys = [];

        public IReadOnlyList<string> Keys
        {
            get
            {
                lock (_gate)
                {
                    return [.. _keys];
                }
            }
        }

        public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken) => throw new InvalidOperationException("keyed only");

        public ValueTask PublishBatchAsync(IReadOnlyList<EventMessage> messages, IReadOnlyList<string>? keys, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                _keys.AddRange(keys!);
            }

            return ValueTask.CompletedTask;
        }

        public async Task WaitUntilAsync(Func<bool> condition)
        {
            var deadline = Environment.TickCount64 + 10_000;
            while (!condition())
            {
                Assert.True(Environment.TickCount64 < deadline, $"{Keys.Count} keys");
                await Task.Delay(5);
            }
        }
    }

    /// <summary>Records each batch's size; the messages in order.</summary>
    private sealed class BatchSink : IEventSink
    {
        private readonly Lock _gate = new();
        private readonly List<int> _batches = [];
        private readonly List<string> _messages = [];

        public IReadOnlyList<int> Batches
        {
            get
            {
                lock (_gate)
                {
                    return [.. _batches];
                }
            }
        }

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_gate)
                {
                    return [.. _messages];
                }
            }
        }

        public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken) =>
            PublishBatchAsync([message], null, cancellationToken);

        public ValueTask PublishBatchAsync(IReadOnlyList<EventMessage> messages, IReadOnlyList<string>? keys, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                _batches.Add(messages.Count);
                _messages.AddRange(messages.Select(m => m.Message));
            }

            return ValueTask.CompletedTask;
        }

        public async Task WaitUntilAsync(Func<bool> condition)
        {
            var deadline = Environment.TickCount64 + 10_000;
            while (!condition())
            {
                Assert.True(Environment.TickCount64 < deadline, $"{Messages.Count} messages in {Batches.Count} batches");
                await Task.Delay(5);
            }
        }
    }
}
