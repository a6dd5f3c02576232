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
}
