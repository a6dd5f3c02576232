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

    [Fact(Timeout = 30_000)]
    public async Task Run_EventsStreamIn_GatheredIntoFewBatches_ButAFewGoAtOnce()
    {
        using var temp = new TempDir();
        using var store = new BaselineStore(temp.Combine("fim.db"));
        var sink = new BatchSink();
        var outbox = new Outbox(store.ConnectionString, sink, maxEps: 0, TimeProvider.System);
        using var cts = new CancellationTokenSource();
        var run = outbox.RunAsync(cts.Token);

        // A few events 60 ms apart (a file now and then, as the guide's chain writes them): each goes alone, at once.
        for (var i = 0; i < 6; i++)
        {
            store.Enqueue(new EventMessage('8', "syscheck", $"a{i}"));
            outbox.Notify();
            await Task.Delay(60);
        }

        await sink.WaitUntilAsync(() => sink.Messages.Count == 6);
        Assert.Equal([1, 1, 1, 1, 1, 1], sink.Batches);

        // Then 600 events, one every 2 ms (as realtime FIM commits them at several hundred a second), each notified alone.
        for (var i = 0; i < 600; i++)
        {
            store.Enqueue(new EventMessage('8', "syscheck", $"m{i}"));
            outbox.Notify();
            await Task.Delay(2);
        }

        await sink.WaitUntilAsync(() => sink.Messages.Count == 606);
        Assert.Equal([.. Enumerable.Range(0, 6).Select(i => $"a{i}"), .. Enumerable.Range(0, 600).Select(i => $"m{i}")], sink.Messages);
        var streamed = sink.Batches.Skip(6).ToList();
        Assert.True(streamed.Count <= 150, $"{streamed.Count} batches for 600 events that streamed in: {string.Join(",", streamed)}");

        // Quiet for a while, then one event: it is not held back to gather others.
        await Task.Delay(500);
        store.Enqueue(new EventMessage('8', "syscheck", "alone"));
        outbox.Notify();
        await sink.WaitUntilAsync(() => sink.Messages.Count == 607);
        Assert.Equal(1, sink.Batches[^1]);

        await cts.CancelAsync();
        await run;
        Assert.False(outbox.HasBacklog());
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
