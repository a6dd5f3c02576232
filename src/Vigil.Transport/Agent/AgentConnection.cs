using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Vigil.Core.Events;
using Vigil.Transport.Protocol;

namespace Vigil.Transport.Agent;

/// <summary>Keep-alive and reconnection timing of the agent's channel.</summary>
internal sealed record AgentConnectionOptions
{
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Events sent but not yet acknowledged, at most.</summary>
    public int Window { get; init; } = 4096;
}

/// <summary>
/// agentd's role: keeps one mutual-TLS stream to the manager, sends the durable queue in order (from the oldest
/// unacknowledged event after each reconnect), forgets what the manager acknowledges, sends keep-alives, and hands
/// active responses — which arrive only on this authenticated stream — to execd. Reconnects with exponential backoff.
/// With several managers (<c>H1:P,H2:P</c>, managers sharing one database and CA), a failure moves to the next one in
/// the list at once, and backs off only once every one has failed in a row; it stays on the one that answers. The
/// durable queue is the same whichever manager it sends to: each one starts from what all of them acknowledged.
/// </summary>
internal sealed class AgentConnection(
    AgentCredentials credentials,
    DurableEventQueue queue,
    Func<ActiveResponse, CancellationToken, Task> onActiveResponse,
    AgentConnectionOptions options,
    ILogger logger,
    TimeProvider time)
{
    private const int MaxBatchBytes = 1 << 20;

    // Events a message carries at most. The manager parses a whole message before it queues its events for analysis,
    // so with many agents sending at once, smaller messages keep fewer parsed events waiting in its memory.
    internal const int MaxBatchEvents = 64;

    private readonly string[] _managers = ManagerList.Parse(credentials.Manager);
    private int _current;

    public string Version { get; init; } = Core.VigilVersion.Current;

    /// <summary>The manager it connects (or tries to connect) to now.</summary>
    public string Manager => _managers[_current];

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var backoff = options.MinBackoff;
        var failuresInARow = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            string reason;
            try
            {
                await RunOnceAsync(() => (backoff, failuresInARow) = (options.MinBackoff, 0), stoppingToken);
                reason = "stream closed";
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException ex)
            {
                reason = RpcMessages.Describe(ex, Manager);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException or InvalidOperationException)
            {
                reason = ex.Message;
            }
            catch (Exception ex)
            {
                // No exception ends the sender: it is logged as the reason and the connection is made again.
                reason = $"{ex.GetType().Name}: {ex.Message}";
            }

            var failed = Manager;
            failuresInARow++;
            if (_managers.Length > 1)
            {
                _current = (_current + 1) % _managers.Length;
            }

            // The next manager at once; the back-off only once each has failed in a row.
            var delay = _managers.Length > 1 && failuresInARow < _managers.Length ? options.MinBackoff : backoff;
            if (_managers.Length > 1)
            {
                TransportLog.FailingOver(logger, failed, reason, Manager, delay);
            }
            else
            {
                TransportLog.ManagerUnreachable(logger, failed, reason, delay);
            }

            try
            {
                await Task.Delay(delay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (delay == backoff)
            {
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxBackoff.Ticks));
                failuresInARow = 0;
            }
        }
    }

    private async Task RunOnceAsync(Action onConnected, CancellationToken stoppingToken)
    {
        using var handler = credentials.CreateHandler(logger, Manager);
        using var channel = GrpcChannel.ForAddress($"https://{Manager}", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        using var stream = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var token = stream.Token;
        using var call = new AgentChannel.AgentChannelClient(channel).Connect(cancellationToken: token);

        // The reader answers active responses while the sender sends events: one writer at a time on the stream.
        using var writeGate = new SemaphoreSlim(1, 1);
        async Task WriteAsync(AgentMessage message)
        {
            await writeGate.WaitAsync(token);
            try
            {
                await call.RequestStream.WriteAsync(message, token);
            }
            finally
            {
                writeGate.Release();
            }
        }

        await WriteAsync(new AgentMessage { Hello = new Hello { Version = Version, AcknowledgesResponses = true } });

        // The manager's first message says how far it has durably handled this agent's events.
        if (!await call.ResponseStream.MoveNext(token) || call.ResponseStream.Current.BodyCase != ManagerMessage.BodyOneofCase.Acknowledged)
        {
            throw new InvalidOperationException("the manager closed the stream");
        }

        var acknowledged = call.ResponseStream.Current.Acknowledged;
        queue.Acknowledge(acknowledged);
        onConnected();
        TransportLog.ConnectedToManager(logger, Manager, credentials.Id);
        var reader = Task.Run(async () =>
        {
            try
            {
                while (await call.ResponseStream.MoveNext(token))
                {
                    var message = call.ResponseStream.Current;
                    if (message.BodyCase == ManagerMessage.BodyOneofCase.Acknowledged)
                    {
                        Volatile.Write(ref acknowledged, message.Acknowledged);
                        queue.Acknowledge(message.Acknowledged);
                    }
                    else if (message.BodyCase == ManagerMessage.BodyOneofCase.ActiveResponse)
                    {
                        var response = message.ActiveResponse;
                        TransportLog.ActiveResponseReceived(logger, response.Name);
                        _ = Task.Run(() => CarryOutAsync(response, WriteAsync, stoppingToken), CancellationToken.None);
                    }
                }
            }
            finally
            {
                await stream.CancelAsync();
            }
        }, CancellationToken.None);

        try
        {
            var sent = acknowledged;
            var write = (Func<AgentMessage, Task>)WriteAsync;
            var lastWrite = time.GetTimestamp();
            while (!token.IsCancellationRequested)
            {
                var changed = queue.Changed;
                var batch = sent - Volatile.Read(ref acknowledged) < (ulong)options.Window ? queue.ReadAfter(sent, 512) : [];
                if (batch.Count == 0)
                {
                    var idle = options.KeepAliveInterval - time.GetElapsedTime(lastWrite);
                    if (idle <= TimeSpan.Zero)
                    {
                        await write(new AgentMessage { KeepAlive = new KeepAlive() });
                        lastWrite = time.GetTimestamp();
                        continue;
                    }

                    await Task.WhenAny(changed, Task.Delay(idle, time, token));
                    continue;
                }

                // Up to 64 events a message, and about 1 MiB (the manager accepts messages of up to 4 MiB).
                var events = new EventBatch();
                var bytes = 0;
                foreach (var item in batch)
                {
                    events.Events.Add(new AgentEvent { Sequence = item.Sequence, Queue = item.Message.Queue.ToString(), Location = EventText.Scrub(item.Message.Location), Message = EventText.Scrub(item.Message.Message) });
                    bytes += item.Message.Message.Length + item.Message.Location.Length + 16;
                    if (bytes >= MaxBatchBytes || events.Events.Count == MaxBatchEvents)
                    {
                        await write(new AgentMessage { Events = events });
                        events = new EventBatch();
                        bytes = 0;
                    }

                    sent = item.Sequence;
                }

                if (events.Events.Count > 0)
                {
                    await write(new AgentMessage { Events = events });
                }

                lastWrite = time.GetTimestamp();
            }
        }
        finally
        {
            await stream.CancelAsync();
            await reader.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        // Surface why the reader stopped (a refusal arrives as an RpcException on the response stream).
        await reader;
    }

    // A response with an outbox id is carried out once (the manager resends what it has no answer for after a
    // reconnect), then answered; the answer is sent again for one already carried out. The key names the manager's
    // CA too, since ids are per manager.
    private async Task CarryOutAsync(ActiveResponse response, Func<AgentMessage, Task> write, CancellationToken stoppingToken)
    {
        var key = response.Id == 0 ? null
            : response.Origin.Length == 0 ? $"ar:{credentials.Authority.Thumbprint}:{response.Id}"
            : $"ar:{credentials.Authority.Thumbprint}:{response.Origin}:{response.Id}";
        if (key is null || !queue.HasKey(key))
        {
            await onActiveResponse(response, stoppingToken);
            if (key is not null)
            {
                queue.TryClaim(key);
            }
        }

        if (key is not null)
        {
            try
            {
                await write(new AgentMessage { ResponseDone = new ResponseDone { Id = response.Id, Origin = response.Origin } });
            }
            catch (Exception ex) when (ex is OperationCanceledException or RpcException or IOException or InvalidOperationException or ObjectDisposedException)
            {
                // The stream ended meanwhile: the manager resends on the next connection and gets the answer then.
            }
        }
    }
}

/// <summary>The agent's managers: <c>H1:P1,H2:P2</c> in order of preference (one is the common case).</summary>
internal static class ManagerList
{
    public static string[] Parse(string managers)
    {
        var list = managers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return list.Length > 0 ? list : [managers];
    }
}
