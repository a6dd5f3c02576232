using System.Threading.Channels;
using Vigil.Core.Events;

namespace Vigil.Hosting;

/// <summary>The in-process path from producers (FIM, intelligence, the AR log) to analysis: a bounded channel that
/// makes producers wait when analysis falls behind, so nothing is dropped.</summary>
internal sealed class ChannelEventSink(ChannelWriter<EventMessage> writer) : IEventSink
{
    public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken) =>
        writer.WriteAsync(message, cancellationToken);
}
