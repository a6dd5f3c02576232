using System.Threading.Channels;
using Vigil.Web.Index;

namespace Vigil.Web;

/// <summary>
/// New alerts, as they are indexed, for live views (the dashboard's server-sent events). Each subscriber has its own
/// bounded buffer; a subscriber that falls behind loses its oldest undelivered alerts (the index still has them), it
/// never slows the manager down.
/// </summary>
internal sealed class AlertFeed
{
    private readonly Lock _gate = new();
    private readonly List<Channel<IndexedAlert>> _subscribers = [];

    public const int SubscriberCapacity = 1024;

    public void Publish(IndexedAlert alert)
    {
        lock (_gate)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(alert);
            }
        }
    }

    /// <summary>Alerts published from now until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<IndexedAlert> SubscribeAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<IndexedAlert>(new BoundedChannelOptions(SubscriberCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        lock (_gate)
        {
            _subscribers.Add(channel);
        }

        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var alert))
                {
                    yield return alert;
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                _subscribers.Remove(channel);
            }
        }
    }

    public int SubscriberCount
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count;
            }
        }
    }
}
