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
    public static (DiskSpaceMonitor Monitor, Task Loop) Start(OssecConfig config, string dataDirectory, IEventSink sink, TextWriter output, TimeProvider time, CancellationToken cancellationToken) =>
        Start(config, dataDirectory, sink.PublishAsync, output, time, cancellationToken);

    /// <summary>As above, handing each message to <paramref name="publish"/> (the manager injects it into its own analysis).</summary>
    public static (DiskSpaceMonitor Monitor, Task Loop) Start(
        OssecConfig config, string dataDirectory, Func<EventMessage, CancellationToken, ValueTask> publish, TextWriter output, TimeProvider time, CancellationToken cancellationToken)
    {
        var monitor = new DiskSpaceMonitor(dataDirectory, config.Global.MinFreeDiskBytes, time);
        var loop = config.Global.MinFreeDiskBytes <= 0
            ? Task.CompletedTask
            : Task.Run(() => monitor.RunAsync(Interval, async (message, reading, token) =>
            {
                // The message is "vigil: Low disk space for …" (rule 200404) or "vigil: Disk space recovered …".
                await output.WriteLineAsync(reading.IsLow
                    ? $"vigil: WARNING: {message.Message["vigil: ".Length..]} ({config.SourcePath}; rule 200404)"
                    : message.Message);
                await publish(message, token);
            }, cancellationToken), CancellationToken.None);
        return (monitor, loop);
    }

    // How often the free space is read (the first reading is at start).
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
}
