using Vigil.Core.Events;
using Vigil.Intel.Engines;

namespace Vigil.Agent;

/// <summary>
/// Tells the manager the state of the agent's engines (docs/engines.md), so its Intelligence page shows them: an
/// engine_status message (<see cref="EngineStatusReport"/>) a second after the agent starts, then when anything in it
/// changed, at most every <see cref="Interval"/>, and every <see cref="Heartbeat"/> even when nothing did. These go
/// through the agent's durable queue with the events, in order, so the last one the manager reads is the latest.
/// </summary>
internal sealed class EngineStatusReporter(Func<IReadOnlyList<(string Key, EngineStatus Status)>> engines, IEventSink sink, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan Heartbeat = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        string? lastSent = null;
        var sentAt = DateTimeOffset.MinValue;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Poll, time, cancellationToken);
                var now = time.GetUtcNow();
                var message = EngineStatusReport.Message(engines());
                if (lastSent is null || (message.Message != lastSent && now - sentAt >= Interval) || now - sentAt >= Heartbeat)
                {
                    await sink.PublishAsync(message, cancellationToken);
                    (lastSent, sentAt) = (message.Message, now);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // A full queue or disk, an engine's store that cannot be read: the next look says it again.
            }
        }
    }
}
