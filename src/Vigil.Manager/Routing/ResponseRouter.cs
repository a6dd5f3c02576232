using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Vigil.Core;
using Vigil.Storage.Postgres;
using Vigil.Storage.Postgres.Responses;
using Vigil.Transport.Channel;
using Vigil.Transport.Registry;

namespace Vigil.Manager.Routing;

/// <summary>
/// A manager's side of active-response routing on the shared database (see <see cref="PostgresResponseRouting"/>),
/// run as one loop so a database that is down delays routing and never the agents' streams or analysis:
/// - an agent that connects here takes its lease; one that goes releases it; the leases of the agents connected here
///   are renewed every <see cref="RenewEvery"/>;
/// - a response in this manager's outbox for an agent that is not connected here is handed to the shared table
///   (then taken out of the outbox, so a restart between the two repeats the hand-off, which the table keys once),
///   and the manager holding the agent's lease is told;
/// - the responses waiting there for an agent connected here are sent on its stream when it connects, when another
///   manager says so, and at each poll (a notification missed while the database was away);
/// - the agent's confirmation deletes the row; the rows this manager decided and no one delivered by their deadline
///   come back to it as "not delivered".
/// The agent carries a response out once per (origin, id), so a response sent twice (by two managers, or again
/// after a reconnect) is still carried out once.
/// </summary>
internal sealed partial class ResponseRouter(
    PostgresResponseRouting store,
    AgentRegistry outbox,
    Func<SessionTable?> sessions,
    Func<string, CancellationToken, ValueTask> notDelivered,
    TimeSpan responseDeadline,
    ILogger logger,
    TimeProvider time)
{
    /// <summary>How often leases are renewed: a third of their lifetime, so two renewals can fail before one expires.</summary>
    public static readonly TimeSpan RenewEvery = PostgresResponseRouting.LeaseTime / 3;

    private static readonly TimeSpan s_pollEvery = TimeSpan.FromSeconds(5);

    private readonly Channel<Work> _work = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<Work> _retry = [];

    // What was sent on each live session from the shared table, so a poll does not send it again on the same stream.
    private readonly Dictionary<AgentSession, HashSet<(string Origin, ulong Id)>> _sent = [];
    private long? _downSince;

    public void Connected(AgentSession session) => _work.Writer.TryWrite(new Work(WorkKind.Connected, session.Id, Session: session));

    public void Disconnected(string agentId) => _work.Writer.TryWrite(new Work(WorkKind.Disconnected, agentId));

    /// <summary>Another manager routed a response here for this agent (from the LISTEN connection).</summary>
    public void Notified(string agentId) => _work.Writer.TryWrite(new Work(WorkKind.Notified, agentId));

    /// <summary>A response of this manager's outbox for an agent not connected here: hand it off now, not at the next tick.</summary>
    public void HandOffSoon() => _work.Writer.TryWrite(new Work(WorkKind.HandOff, ""));

    public void Done(string agentId, string origin, ulong id) => _work.Writer.TryWrite(new Work(WorkKind.Done, agentId, origin, id));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var lastRenew = time.GetTimestamp();
        var lastPoll = time.GetTimestamp();
        var work = new List<Work>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                using (var tick = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    tick.CancelAfter(TimeSpan.FromSeconds(1));
                    try
                    {
                        await _work.Reader.WaitToReadAsync(tick.Token);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                    }
                }

                work.Clear();
                work.AddRange(_retry);
                _retry.Clear();
                while (_work.Reader.TryRead(out var item))
                {
                    work.Add(item);
                }

                var ok = true;
                foreach (var item in work)
                {
                    ok = ok && await TryAsync(() => HandleAsync(item, cancellationToken));
                    if (!ok && item.Kind is WorkKind.Connected or WorkKind.Disconnected or WorkKind.Done)
                    {
                        _retry.Add(item); // a hand-off, a notification: the next tick does them anyway
                    }
                }

                if (!ok)
                {
                    continue;
                }

                ok = await TryAsync(() => HandOffAsync(cancellationToken))
                    && await TryAsync(() => ExpireAsync(cancellationToken));
                if (ok && time.GetElapsedTime(lastRenew) >= RenewEvery)
                {
                    ok = await TryAsync(() => store.RenewLeasesAsync([.. Live().Select(s => s.Id)], cancellationToken));
                    lastRenew = ok ? time.GetTimestamp() : lastRenew;
                }

                if (ok && time.GetElapsedTime(lastPoll) >= s_pollEvery)
                {
                    ok = await TryAsync(() => SendPendingAsync(Live(), cancellationToken));
                    lastPoll = ok ? time.GetTimestamp() : lastPoll;
                }

                if (ok && _downSince is { } since)
                {
                    _downSince = null;
                    PostgresLog.Back(logger, store.Database, time.GetElapsedTime(since).TotalSeconds);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task HandleAsync(Work item, CancellationToken cancellationToken)
    {
        switch (item.Kind)
        {
            case WorkKind.Connected when sessions()?.IsLive(item.Session!) == true:
                await store.TakeLeaseAsync(item.AgentId, cancellationToken);
                _sent[item.Session!] = [];
                await SendPendingAsync([item.Session!], cancellationToken);
                break;
            case WorkKind.Disconnected when sessions()?.Find(item.AgentId) is null:
                await store.ReleaseLeaseAsync(item.AgentId, cancellationToken);
                break;
            case WorkKind.Notified when sessions()?.Find(item.AgentId) is { } session:
                await SendPendingAsync([session], cancellationToken);
                break;
            case WorkKind.Done:
                if (await store.CompleteAsync(item.Origin, item.Id, cancellationToken))
                {
                    Log.RoutedDone(logger, item.AgentId, item.Origin, item.Id);
                }

                break;
        }
    }

    // This manager's outbox rows for agents not connected here go to the shared table, then out of the outbox.
    private async Task HandOffAsync(CancellationToken cancellationToken)
    {
        var live = sessions();
        var pending = outbox.PendingAgentResponses().Where(r => live?.Find(r.AgentId) is null).ToList();
        if (pending.Count == 0)
        {
            return;
        }

        var holders = await store.HandOffAsync(
            [.. pending.Select(r => new RoutedResponse(store.ManagerName, r.Id, r.AgentId, r.Name, r.Json, r.Deadline))],
            cancellationToken);
        foreach (var response in pending)
        {
            outbox.CompleteResponse(response.AgentId, response.Id);
            var holder = holders.GetValueOrDefault(response.AgentId);
            Log.HandedOff(logger, response.Name, response.AgentId, holder is null ? "no manager holds its lease; the one it connects to next delivers it" : $"manager {holder} holds its lease");
        }
    }

    private async Task SendPendingAsync(IReadOnlyList<AgentSession> targets, CancellationToken cancellationToken)
    {
        foreach (var dead in _sent.Keys.Where(s => sessions()?.IsLive(s) != true).ToList())
        {
            _sent.Remove(dead);
        }

        if (targets.Count == 0)
        {
            return;
        }

        var byAgent = targets.ToDictionary(s => s.Id, StringComparer.Ordinal);
        foreach (var response in await store.PendingForAsync(byAgent.Keys, cancellationToken))
        {
            var session = byAgent[response.AgentId];
            if (!_sent.TryGetValue(session, out var sent))
            {
                _sent[session] = sent = [];
            }

            if (sent.Contains((response.Origin, response.Id)) || !session.TrySendActiveResponse(response.Name, response.Json, response.Id, response.Origin))
            {
                continue;
            }

            sent.Add((response.Origin, response.Id));
            Log.RoutedSent(logger, response.Name, response.AgentId, response.Origin);
            await store.MarkSentAsync(response, cancellationToken);
            if (!session.AcknowledgesResponses)
            {
                await store.CompleteAsync(response.Origin, response.Id, cancellationToken);
            }
        }
    }

    private async Task ExpireAsync(CancellationToken cancellationToken)
    {
        foreach (var response in await store.TakeExpiredAsync(cancellationToken))
        {
            var holder = await store.LeaseHolderAsync(response.AgentId, cancellationToken);
            var reason = holder is null ? "the agent did not connect to any manager" : $"the agent, on manager {holder}, did not confirm it";
            Log.NotDelivered(logger, response.Name, response.AgentId, responseDeadline, reason);
            await notDelivered(
                $"vigil: Active response not delivered: {response.Name} for agent {response.AgentId} within {responseDeadline.TotalSeconds:0} s ({reason}): {response.Json}",
                cancellationToken);
        }
    }

    private List<AgentSession> Live() => [.. sessions()?.All ?? []];

    private async Task<bool> TryAsync(Func<Task> action)
    {
        try
        {
            await action();
            return true;
        }
        catch (VigilException ex) when (!ex.IsFatal)
        {
            if (_downSince is null)
            {
                _downSince = time.GetTimestamp();
                PostgresLog.Unavailable(logger, store.Database, ex.InnerException?.Message ?? ex.Message, "active responses for agents on other managers wait in this manager's outbox; routed ones wait in the database");
            }

            return false;
        }
    }

    private enum WorkKind
    {
        Connected,
        Disconnected,
        Notified,
        HandOff,
        Done,
    }

    private sealed record Work(WorkKind Kind, string AgentId, string Origin = "", ulong Id = 0, AgentSession? Session = null);

    private static partial class Log
    {
        [LoggerMessage(EventIds.ResponseHandedOff, LogLevel.Information, "Active response {Command} for agent {AgentId} handed to the shared database: {Holder}")]
        public static partial void HandedOff(ILogger logger, string command, string agentId, string holder);

        [LoggerMessage(EventIds.RoutedResponseSent, LogLevel.Information, "Active response {Command} sent to agent {AgentId} (routed from manager {Origin})")]
        public static partial void RoutedSent(ILogger logger, string command, string agentId, string origin);

        [LoggerMessage(EventIds.RoutedResponseDone, LogLevel.Information, "Agent {AgentId} carried out active response {ResponseId} of manager {Origin}")]
        public static partial void RoutedDone(ILogger logger, string agentId, string origin, ulong responseId);

        [LoggerMessage(EventIds.RoutedResponseNotDelivered, LogLevel.Warning, "Active response {Command} for agent {AgentId} not delivered within {Deadline}: {Reason}")]
        public static partial void NotDelivered(ILogger logger, string command, string agentId, TimeSpan deadline, string reason);
    }
}
