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
