using Vigil.Core.Events;
using Vigil.Fim;
using Vigil.Fim.Events;

namespace Vigil.Agent;

/// <summary>
/// Tells the manager how far the agent's full scans have got, so its status page (and the dashboard's banner) shows
/// an agent's first scan as it shows its own: a scan_progress message a second after a scan starts and then every
/// <see cref="Interval"/>, and one with the scan's figures when it ends. These go through the agent's durable queue
/// with the events, in order, so the last one the manager reads is the latest.
/// </summary>
internal sealed class ScanProgressReporter(Func<FimStatus> status, IEventSink sink, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var first = true;
        var running = false;
        var lastSent = TimeSpan.Zero;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Poll, time, cancellationToken);
                var now = status();
                if (now.Scan is { } scan)
                {
                    if (!running || scan.Elapsed - lastSent >= Interval)
                    {
                        await sink.PublishAsync(FimMessages.ScanProgress(scan.Files, scan.Bytes, scan.Elapsed, now.EntriesAtStart, first, done: false), cancellationToken);
                        lastSent = scan.Elapsed;
                    }

                    running = true;
                }
                else if ((running || first) && now.LastScan is { } last)
                {
                    // Ended (or ended before the first look: a small tree): its figures, once.
                    await sink.PublishAsync(FimMessages.ScanProgress(last.Files, last.Bytes, last.Elapsed, now.EntriesAtStart, first, done: true), cancellationToken);
                    (running, first, lastSent) = (false, false, TimeSpan.Zero);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // A full queue or disk: the next report says it again; the scan itself is not affected.
            }
        }
    }
}
