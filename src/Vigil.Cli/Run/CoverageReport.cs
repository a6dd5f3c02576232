using System.Globalization;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;
using Vigil.Fim;
using Vigil.Manager.Api;

namespace Vigil.Cli.Run;

/// <summary>What the process itself covers, for /api/status: its FIM's scan and limits, its data directory's free space.</summary>
internal static class CoverageReport
{
    public static HostCoverage Live(string agentId, string agentName, OssecConfig config, FimStatus? fim, DiskSpaceReading? disk)
    {
        var limits = new List<LimitStatus>();
        ScanStatus? scan = null;
        if (fim is not null)
        {
            if (fim.Scan is { } running)
            {
                scan = StatusApi.Scan(!fim.IsInitialScanDone, running.Files, running.Bytes, running.Elapsed, fim.EntriesAtStart);
            }

            if (fim.IsFileLimitReached)
            {
                limits.Add(new LimitStatus(
                    "file_limit",
                    $"FIM file_limit reached ({N(fim.FileLimit)} entries): new files are not monitored (rule 200201)",
                    $"<syscheck><file_limit><entries> in {config.SourcePath}",
                    null));
            }

            foreach (var root in fim.WatchesExhaustedUnder)
            {
                limits.Add(new LimitStatus(
                    "inotify_watches",
                    $"inotify watches exhausted under {root} ({N(fim.Watches)} watches): the rest has no realtime monitoring, only scheduled scans (rule 200200)",
                    FimConsole.WatchSetting(config),
                    null));
            }
        }

        if (disk is { IsLow: true })
        {
            limits.Add(new LimitStatus(
                "disk",
                DiskSpaceMonitor.Summary(disk) + " (rule 200404)",
                $"<global><min_free_disk> in {config.SourcePath}",
                null));
        }

        return new HostCoverage(agentId, agentName, "live", scan, limits, fim?.Entries, fim?.Watches, disk?.FreeBytes);
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}

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
