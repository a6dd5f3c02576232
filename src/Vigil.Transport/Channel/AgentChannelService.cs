using Grpc.Core;
using Microsoft.Extensions.Logging;
using Vigil.Core.Events;
using Vigil.Transport.Protocol;
using Vigil.Transport.Registry;
using Vigil.Transport.Security;

namespace Vigil.Transport.Channel;

/// <summary>
/// remoted's role: authenticates an agent by its client certificate (signed by the manager's CA, naming an agent
/// that is in the registry and not removed, with the thumbprint enrolled), rewrites each event's location to that
/// identity and hands it to the host; sends acknowledgements and active responses down.
/// </summary>
internal sealed class AgentChannelService(
    ManagerTransportContext context,
    ILogger<AgentChannelService> logger) : AgentChannel.AgentChannelBase
{
    public override async Task Connect(IAsyncStreamReader<AgentMessage> requestStream, IServerStreamWriter<ManagerMessage> responseStream, ServerCallContext call)
    {
        var http = call.GetHttpContext();
        var address = http.Connection.RemoteIpAddress;
        var agent = Available(() => Authenticate(http.Connection.ClientCertificate, TransportLog.Describe(address)));
        var session = new AgentSession(new AgentIdentity(agent.Id, agent.Name, address?.ToString()));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(call.CancellationToken, context.Stopping.Token, session.Replaced);
        var token = linked.Token;

        // The agent speaks first (Hello: its version, whether it answers active responses); read it before the
        // session goes live, so responses waiting for the agent are sent the way it understands.
        AgentMessage? first = null;
        try
        {
            if (await requestStream.MoveNext(token))
            {
                first = requestStream.Current;
                if (first.BodyCase == AgentMessage.BodyOneofCase.Hello)
                {
                    session.AcknowledgesResponses = first.Hello.AcknowledgesResponses;
                    if (Core.VigilVersion.CannotServe(context.Version, first.Hello.Version) is { } mismatch)
                    {
                        // Said once on each side: the manager's log names the agent, the agent's names the manager.
                        TransportLog.AgentVersionRefused(logger, agent.Id, agent.Name, mismatch);
                        context.Registry.Touch(agent.Id, AgentStatus.Disconnected, address?.ToString(), first.Hello.Version, context.Time.GetUtcNow());
                        throw new RpcException(new Status(StatusCode.FailedPrecondition, mismatch));
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException || ex is RpcException { StatusCode: StatusCode.Cancelled })
        {
            return; // gone before it said hello
        }

        if (context.Sessions.Add(session) is { } replaced)
        {
            // One live session per agent: the older stream is ended, and its end will not mark the agent disconnected.
            TransportLog.SessionReplaced(logger, agent.Id, agent.Name, replaced.Identity.Ip, address?.ToString());
        }

        context.Registry.Touch(agent.Id, AgentStatus.Active, address?.ToString(), null, context.Time.GetUtcNow());
        TransportLog.AgentConnected(logger, agent.Id, agent.Name, address?.ToString());
        var pump = Task.CompletedTask;
        try
        {
            ulong done;
            try
            {
                done = await context.Handler.OnConnectedAsync(session, token);
            }
            catch (Core.VigilException ex) when (!ex.IsFatal)
            {
                throw Unavailable(ex);
            }

            await responseStream.WriteAsync(new ManagerMessage { Acknowledged = done }, token);
            pump = Task.Run(() => PumpAsync(session, responseStream, token), CancellationToken.None);
            if (first is not null)
            {
                await OnMessageAsync(session, agent, first, token);
            }

            await foreach (var message in requestStream.ReadAllAsync(token))
            {
                await OnMessageAsync(session, agent, message, token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException || ex is RpcException { StatusCode: StatusCode.Cancelled })
        {
            // The agent went away, the manager is stopping, or a newer session replaced this one: a disconnection
            // (of this stream), not an error.
        }
        finally
        {
            session.Close();
            if (context.Sessions.Remove(session))
            {
                context.Registry.SetStatus(agent.Id, AgentStatus.Disconnected);
                TransportLog.AgentDisconnected(logger, agent.Id, agent.Name);
                await context.Handler.OnDisconnectedAsync(session, CancellationToken.None);
            }
            else
            {
                TransportLog.StaleSessionClosed(logger, agent.Id, address?.ToString());
            }

            await pump.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private async ValueTask OnMessageAsync(AgentSession session, AgentRecord agent, AgentMessage message, CancellationToken token)
    {
        switch (message.BodyCase)
        {
            case AgentMessage.BodyOneofCase.Hello:
                context.Registry.Touch(agent.Id, AgentStatus.Active, null, message.Hello.Version, context.Time.GetUtcNow());
                break;
            case AgentMessage.BodyOneofCase.KeepAlive:
                if (TryFind(agent.Id) is { IsRemoved: true } or null)
                {
                    TransportLog.AgentRemovedWhileConnected(logger, agent.Id);
                    throw new RpcException(new Status(StatusCode.PermissionDenied, "agent removed"));
                }

                context.Registry.Touch(agent.Id, AgentStatus.Active, null, null, context.Time.GetUtcNow());
                break;
            case AgentMessage.BodyOneofCase.Event:
                await OnEventAsync(session, message.Event, token);
                break;
            case AgentMessage.BodyOneofCase.Events:
                foreach (var e in message.Events.Events)
                {
                    await OnEventAsync(session, e, token);
                }

                break;
            case AgentMessage.BodyOneofCase.ResponseDone:
                await context.Handler.OnResponseDoneAsync(session, message.ResponseDone.Id, message.ResponseDone.Origin, token);
                break;
        }
    }

    private ValueTask OnEventAsync(AgentSession session, AgentEvent e, CancellationToken cancellationToken)
    {
        if (e.Queue.Length != 1)
        {
            TransportLog.MalformedEvent(logger, session.Id, e.Queue);
            return ValueTask.CompletedTask;
        }

        return context.Handler.OnEventAsync(session, e.Sequence, new EventMessage(e.Queue[0], session.LocationOf(e.Location), e.Message), cancellationToken);
    }

    // A shared registry that cannot be reached now: the agent is turned away as "unavailable" and retries (its
    // events wait in its durable queue), rather than refused as if it were not enrolled.
    private static T Available<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Core.VigilException ex) when (!ex.IsFatal)
        {
            throw Unavailable(ex);
        }
    }

    private static RpcException Unavailable(Core.VigilException ex) => new(new Status(StatusCode.Unavailable, ex.Message));

    // At a keep-alive: a registry that cannot be reached keeps the session (it was admitted); a removed agent ends it.
    private AgentRecord? TryFind(string id)
    {
        try
        {
            return context.Registry.Find(id);
        }
        catch (Core.VigilException ex) when (!ex.IsFatal)
        {
            return new AgentRecord(id, "", null, null, AgentStatus.Active, null, "");
        }
    }

    private static async Task PumpAsync(AgentSession session, IServerStreamWriter<ManagerMessage> responseStream, CancellationToken cancellationToken)
    {
        await foreach (var message in session.Outgoing.ReadAllAsync(cancellationToken))
        {
            await responseStream.WriteAsync(message, cancellationToken);
        }
    }

    private AgentRecord Authenticate(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate, string address)
    {
        string? reason = null;
        AgentRecord? agent = null;
        if (certificate is null)
        {
            reason = "no client certificate";
        }
        else if (!CertificateAuthority.IsIssuedBy(certificate, context.Authority.Certificate))
        {
            reason = "client certificate not issued by this manager's CA";
        }
        else if (CertificateAuthority.AgentIdOf(certificate) is not { } id)
        {
            reason = "client certificate names no agent id";
        }
        else if ((agent = context.Registry.Find(id)) is null)
        {
            reason = $"agent {id} is not enrolled";
        }
        else if (agent.IsRemoved)
        {
            reason = $"agent {id} was removed";
        }
        else if (!string.Equals(agent.Thumbprint, certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256), StringComparison.OrdinalIgnoreCase))
        {
            reason = $"agent {id} presented a certificate it was not enrolled with";
        }

        if (reason is not null)
        {
            TransportLog.AgentRefused(logger, address, reason);
            throw new RpcException(new Status(StatusCode.PermissionDenied, reason));
        }

        return agent!;
    }
}
