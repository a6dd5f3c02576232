using System.Net.Sockets;
using System.Text;
using Vigil.Core;
using Vigil.Core.Events;

namespace Vigil.Intel;

/// <summary>
/// Sends each event as one datagram to analysisd's <c>queue/sockets/queue</c> (AF_UNIX, SOCK_DGRAM, UTF-8), as
/// Wazuh's integration scripts do. Used by the drop-in; in Vigil's own manager events go in-process.
/// </summary>
internal sealed class QueueSocketSink(string socketPath) : IEventSink
{
    public async ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            await socket.SendAsync(Encoding.UTF8.GetBytes(message.ToString()), SocketFlags.None, cancellationToken);
        }
        catch (SocketException ex)
        {
            throw new VigilException($"queue socket {socketPath}: {ex.Message}", isFatal: true, ex);
        }
    }
}
