using Vigil.Core.Events;
using Vigil.Tests.Common;
using Vigil.Transport.Agent;

namespace Vigil.Transport.Tests.Agent;

public sealed class DurableEventQueueTests
{
    private static EventMessage Fim(int i) => new(EventMessage.SyscheckQueue, "syscheck", $"{{\"n\":{i}}}");

    [Fact]
    public void Acknowledge_AfterReopen_KeepsOnlyUnacknowledgedEventsWithGrowingSequences()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("events.db");
        using (var queue = new DurableEventQueue(path))
        {
            for (var i = 0; i < 5; i++)
            {
                queue.Enqueue(Fim(i));
            }

            queue.Acknowledge(queue.ReadAfter(0, 10)[2].Sequence);
        }

        using var reopened = new DurableEventQueue(path);
        var left = reopened.ReadAfter(0, 10);
        Assert.Equal(["{\"n\":3}", "{\"n\":4}"], left.Select(e => e.Message.Message));
        reopened.Acknowledge(left[^1].Sequence);
        reopened.Enqueue(Fim(5));
        Assert.True(reopened.ReadAfter(0, 10).Single().Sequence > left[^1].Sequence);
    }

    [Fact]
    public void Enqueue_WhenFull_DropsNewestAndQueuesANoticeWhenRoomReturns()
    {
        using var temp = new TempDirectory();
        using var queue = new DurableEventQueue(temp.Combine("events.db"), capacity: 3);
        for (var i = 0; i < 5; i++)
        {
            queue.Enqueue(Fim(i));
        }

        Assert.Equal(3, queue.Count);
        Assert.Equal(2, queue.Dropped);
        var queued = queue.ReadAfter(0, 10);
        Assert.Equal(["{\"n\":0}", "{\"n\":1}", "{\"n\":2}"], queued.Select(e => e.Message.Message));

        queue.Acknowledge(queued[^1].Sequence);
        var notice = Assert.Single(queue.ReadAfter(0, 10)).Message;
        Assert.Equal(EventMessage.LocalFileQueue, notice.Queue);
        Assert.StartsWith("vigil: Agent event queue full: 2 events dropped", notice.Message, StringComparison.Ordinal);
        Assert.Equal(0, queue.Dropped);
    }

    [Fact]
    public async Task PublishBatch_KeysSentAgainAfterACrash_TakenOnce()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("events.db");
        IEventSink sink;
        using (var queue = new DurableEventQueue(path))
        {
            sink = queue;
            await sink.PublishBatchAsync([Fim(0), Fim(1), Fim(2)], ["fim:1", "fim:2", "fim:3"], CancellationToken.None);
        }

        // The producer crashed before deleting its rows 2 and 3, and sends them again with a new one.
        using var reopened = new DurableEventQueue(path);
        sink = reopened;
        await sink.PublishBatchAsync([Fim(1), Fim(2), Fim(3)], ["fim:2", "fim:3", "fim:4"], CancellationToken.None);
        var events = reopened.ReadAfter(0, 10);
        Assert.Equal(["{\"n\":0}", "{\"n\":1}", "{\"n\":2}", "{\"n\":3}"], events.Select(e => e.Message.Message));
        Assert.Equal(4, reopened.Count);

        // Unkeyed events are never deduplicated.
        await sink.PublishBatchAsync([Fim(3)], null, CancellationToken.None);
        Assert.Equal(5, reopened.Count);
    }

    [Fact]
    public async Task PublishStream_PositionsSentAgainAfterACrash_TakenOnce_PerStream()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("events.db");
        IEventSink sink;
        using (var queue = new DurableEventQueue(path))
        {
            sink = queue;
            await sink.PublishStreamAsync([Fim(0), Fim(1), Fim(2)], "fim-a", [1, 2, 3], CancellationToken.None);
        }

        // The producer crashed before deleting its rows 2 and 3, and sends them again with a new one; the queue was
        // reopened in between, so how far the stream came was read back from the database.
        using var reopened = new DurableEventQueue(path);
        sink = reopened;
        await sink.PublishStreamAsync([Fim(1), Fim(2), Fim(3)], "fim-a", [2, 3, 4], CancellationToken.None);
        Assert.Equal(["{\"n\":0}", "{\"n\":1}", "{\"n\":2}", "{\"n\":3}"], reopened.ReadAfter(0, 10).Select(e => e.Message.Message));

        // A whole batch sent again is taken not at all; positions with gaps are taken as they come.
        await sink.PublishStreamAsync([Fim(1), Fim(3)], "fim-a", [2, 4], CancellationToken.None);
        await sink.PublishStreamAsync([Fim(6), Fim(9)], "fim-a", [6, 9], CancellationToken.None);
        Assert.Equal(6, reopened.Count);

        // Another stream (a new fim.db, starting again at 1) is its own: its positions are not the first one's.
        await sink.PublishStreamAsync([Fim(100), Fim(101)], "fim-b", [1, 2], CancellationToken.None);
        Assert.Equal(8, reopened.Count);
        Assert.Equal(9, reopened.GetState("stream:fim-a"));
        Assert.Equal(2, reopened.GetState("stream:fim-b"));
    }

    // What a stream's positions cost the queue: one number per stream, not one key per event.
    [Fact]
    public async Task PublishStream_KeepsNoKeyPerEvent()
    {
        using var temp = new TempDirectory();
        using var queue = new DurableEventQueue(temp.Combine("events.db"));
        IEventSink sink = queue;
        await sink.PublishStreamAsync([.. Enumerable.Range(0, 100).Select(Fim)], "fim-a", [.. Enumerable.Range(1, 100).Select(i => (long)i)], CancellationToken.None);

        Assert.Equal(100, queue.Count);
        Assert.False(queue.HasKey("fim-a:1"));
        Assert.Equal(100, queue.GetState("stream:fim-a"));
    }

    [Fact]
    public async Task PublishStream_PastCapacity_DroppedAreCounted_AndTheirPositionsTaken()
    {
        using var temp = new TempDirectory();
        using var queue = new DurableEventQueue(temp.Combine("events.db"), capacity: 2);
        IEventSink sink = queue;
        await sink.PublishStreamAsync([Fim(0), Fim(1), Fim(2)], "fim-a", [1, 2, 3], CancellationToken.None);
        Assert.Equal(2, queue.Count);
        Assert.Equal(1, queue.Dropped);

        // Sent again after a crash, the dropped one is not queued twice over: it was taken (as dropped).
        queue.Acknowledge(queue.ReadAfter(0, 10)[^1].Sequence);
        await sink.PublishStreamAsync([Fim(2)], "fim-a", [3], CancellationToken.None);
        Assert.StartsWith("vigil: Agent event queue full: 1 events dropped", Assert.Single(queue.ReadAfter(0, 10)).Message.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Commit_ForgetsEventsAndKeepsEndsAndEffectsAcrossReopen()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("events.db");
        using (var queue = new DurableEventQueue(path))
        {
            Assert.Null(queue.CommittedAlertEnds());
            queue.EnqueueMany([Fim(0), Fim(1), Fim(2)], null);
            var first = queue.ReadAfter(0, 10);
            var added = queue.Commit(first[1].Sequence, (100, 200), [("ar", "{\"a\":1}"), ("intel:0", "{\"b\":2}")]);
            Assert.Equal(2, added.Count);
            queue.CompleteEffect(added[0].Id);
        }

        using var reopened = new DurableEventQueue(path);
        Assert.Equal((100L, 200L), reopened.CommittedAlertEnds());
        Assert.Equal(["{\"n\":2}"], reopened.ReadAfter(0, 10).Select(e => e.Message.Message));
        var pending = Assert.Single(reopened.PendingEffects());
        Assert.Equal(("intel:0", "{\"b\":2}"), (pending.Kind, pending.Payload));
    }
}
