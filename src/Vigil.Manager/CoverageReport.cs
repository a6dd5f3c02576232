using System.Globalization;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Fim;
using Vigil.Hosting;
using Vigil.Web.Api;

namespace Vigil.Manager;

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
