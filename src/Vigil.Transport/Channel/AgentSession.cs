using System.Collections.Concurrent;
using System.Threading.Channels;
using Vigil.Core.Events;
using Vigil.Transport.Protocol;

namespace Vigil.Transport.Channel;

/// <summary>One authenticated agent stream on the manager: what goes down to the agent is queued here and written
/// by the stream's own pump, so acknowledgements and active responses never interleave mid-message.</summary>
internal sealed class AgentSession(AgentIdentity identity)
{
    private readonly Channel<ManagerMessage> _outgoing = System.Threading.Channels.Channel.CreateUnbounded<ManagerMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _replaced = new();

    /// <summary>Cancelled when a newer session of the same agent replaced this one: its stream ends.</summary>
    public CancellationToken Replaced => _replaced.Token;

    /// <summary>Whether the agent said (in its Hello) that it answers each active response with ResponseDone.</summary>
    public bool AcknowledgesResponses { get; set; }

    public AgentIdentity Identity { get; } = identity;

    public string Id => Identity.Id;

    public ChannelReader<ManagerMessage> Outgoing => _outgoing.Reader;

    private (string Location, string Rewritten) _lastLocation = ("", "");

    /// <summary>
    /// The event location as the manager records it, naming this authenticated agent (an agent's events nearly
    /// always share a location or two, so the last one is kept). Called by the stream's reader only.
    /// </summary>
    public string LocationOf(string location)
    {
        var last = _lastLocation;
        if (!string.Equals(last.Location, location, StringComparison.Ordinal) || last.Rewritten.Length == 0)
        {
            last = _lastLocation = (location, EventMessage.AgentLocation(Identity, location));
        }

        return last.Rewritten;
    }

    public bool TryAcknowledge(ulong sequence) => _outgoing.Writer.TryWrite(new ManagerMessage { Acknowledged = sequence });

    public bool TrySendActiveResponse(string name, string json, ulong id = 0, string origin = "") =>
        _outgoing.Writer.TryWrite(new ManagerMessage { ActiveResponse = new ActiveResponse { Name = name, Json = json, Id = id, Origin = origin } });

    public void Close() => _outgoing.Writer.TryComplete();

    /// <summary>Ends this session's stream (a newer one replaced it).</summary>
    public void Abort()
    {
        Close();
        try
        {
            _replaced.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}

/// <summary>
/// The agents connected now, by id: one live session per agent. A newer authenticated session replaces the older
/// one (whose stream is then ended); a session that is no longer the live one never removes the live one.
/// </summary>
internal sealed class SessionTable
{
    private readonly ConcurrentDictionary<string, AgentSession> _sessions = new(StringComparer.Ordinal);

    public AgentSession? Find(string id) => _sessions.TryGetValue(id, out var session) ? session : null;

    public IReadOnlyList<AgentSession> All => [.. _sessions.Values];

    /// <summary>Makes <paramref name="session"/> the agent's live one; returns the one it replaced (already aborted), if any.</summary>
    public AgentSession? Add(AgentSession session)
    {
        AgentSession? previous = null;
        _sessions.AddOrUpdate(session.Id, session, (_, old) =>
        {
            previous = old;
            return session;
        });
        previous?.Abort();
        return previous;
    }

    /// <summary>Whether <paramref name="session"/> is its agent's live session.</summary>
    public bool IsLive(AgentSession session) => Find(session.Id) == session;

    public bool Remove(AgentSession session) =>
        _sessions.TryRemove(new KeyValuePair<string, AgentSession>(session.Id, session));
}

/// <summary>What the manager does with an agent's stream: the transport authenticates, the host decides.</summary>
internal interface IAgentEventHandler
{
    /// <summary>The agent is authenticated and connected; returns the sequence up to which its events are done.</summary>
    public ValueTask<ulong> OnConnectedAsync(AgentSession session, CancellationToken cancellationToken);

    /// <summary>One event, its location already rewritten to the authenticated agent's.</summary>
    public ValueTask OnEventAsync(AgentSession session, ulong sequence, EventMessage message, CancellationToken cancellationToken);

    public ValueTask OnDisconnectedAsync(AgentSession session, CancellationToken cancellationToken);

    /// <summary>The agent carried out the active response with this outbox id, queued by <paramref name="origin"/> (empty: this manager alone).</summary>
    public ValueTask OnResponseDoneAsync(AgentSession session, ulong id, string origin, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
