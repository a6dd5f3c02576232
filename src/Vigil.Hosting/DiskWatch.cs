using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;

namespace Vigil.Hosting;

/// <summary>
/// The data directory's free space against <c>&lt;global&gt;&lt;min_free_disk&gt;</c>, checked every 30 seconds:
/// going below is a console WARNING with the setting to change and a message into the host's queue (rule 200404);
/// back above is a line and rule 200405.
/// </summary>
internal static class DiskWatch
{
    /// <summary>The data directory's monitor (its last reading is what /api/status shows).</summary>
    public static DiskSpaceMonitor Monitor(OssecConfig config, string dataDirectory, TimeProvider time) =>
        new(dataDirectory, config.Global.MinFreeDiskBytes, time);

    /// <summary>The loop (a host's stage), handing each message to <paramref name="publish"/> (the host's queue, or the manager's own analysis).</summary>
    public static Task RunAsync(
        DiskSpaceMonitor monitor, OssecConfig config, Func<EventMessage, CancellationToken, ValueTask> publish, TextWriter output, CancellationToken cancellationToken) =>
        config.Global.MinFreeDiskBytes <= 0
            ? Task.CompletedTask
            : monitor.RunAsync(Interval, async (message, reading, token) =>
            {
                // The message is "vigil: Low disk space for …" (rule 200404) or "vigil: Disk space recovered …".
                await output.WriteLineAsync(reading.IsLow
                    ? $"vigil: WARNING: {message.Message["vigil: ".Length..]} ({config.SourcePath}; rule 200404)"
                    : message.Message);
                await publish(message, token);
            }, cancellationToken);

    // How often the free space is read (the first reading is at start).
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
}
