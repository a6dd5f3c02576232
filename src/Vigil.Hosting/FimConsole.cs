using System.Globalization;
using Vigil.Core.Configuration;
using Vigil.Fim;

namespace Vigil.Hosting;

/// <summary>
/// What FIM is doing, on the console: the first scan's progress (one updating line on a terminal, a plain line every
/// five seconds otherwise), the limits it runs into (loud, once, with the setting to change), and at "ready" what is
/// and is not covered.
/// </summary>
internal sealed class FimConsole(FimService fim, OssecConfig config, TextWriter output, TimeProvider time, bool isTerminal)
{
    private readonly HashSet<string> _exhaustedTold = new(StringComparer.Ordinal);
    private bool _fileLimitTold;

    /// <summary>Whether the console is a terminal (progress then rewrites one line).</summary>
    public static bool IsTerminal => !Console.IsOutputRedirected;

    /// <summary>Shows progress until the first scan is done, then one line with its figures.</summary>
    public async Task ShowFirstScanAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var interval = isTerminal ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(5);
        var shown = false;
        while (!fim.InitialScan.IsCompleted)
        {
            await Task.WhenAny(fim.InitialScan, Task.Delay(interval, time, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
            var status = fim.Status;
            if (fim.InitialScan.IsCompleted)
            {
                break;
            }

            var line = Progress(status, time.GetElapsedTime(started));
            if (isTerminal)
            {
                await output.WriteAsync($"\r{line}\u001b[K");
            }
            else
            {
                await output.WriteLineAsync(line);
            }

            shown = true;
            await TellLimitsAsync(status, isTerminal);
        }

        await fim.InitialScan.WaitAsync(cancellationToken);
        if (shown && isTerminal)
        {
            await output.WriteAsync("\r\u001b[K");
        }

        var final = fim.Status;
        var elapsed = time.GetElapsedTime(started);
        if (final.FilesScanned > 0)
        {
            await output.WriteLineAsync($"vigil: first scan done: {N(final.FilesScanned)} files, {Bytes(final.BytesScanned)} in {elapsed.TotalSeconds:0.0} s ({Rate(final.FilesScanned, elapsed)} files/s)");
        }

        await TellLimitsAsync(final, lineOpen: false);
    }

    /// <summary>After "ready": says each limit as soon as it is reached.</summary>
    public async Task WatchLimitsAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2), time);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await TellLimitsAsync(fim.Status, lineOpen: false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The lines printed before "ready": what is and is not covered.</summary>
    public IEnumerable<string> Coverage()
    {
        var status = fim.Status;
        if (config.Syscheck.Disabled || config.Syscheck.Directories.Count == 0)
        {
            yield break;
        }

        var realtime = config.Syscheck.Directories.Any(d => d.Realtime || d.Whodata);
        yield return $"vigil: covered: {N(status.Entries)} files in the baseline{(realtime ? $", {N(status.Watches)} directories watched in real time" : "")}";
        if (status.IsFileLimitReached)
        {
            yield return $"vigil: NOT covered: files beyond file_limit ({N(status.FileLimit)} entries) are not monitored at all; raise <file_limit><entries> in <syscheck> of {config.SourcePath}";
        }

        foreach (var root in status.WatchesExhaustedUnder)
        {
            yield return $"vigil: NOT covered in real time: part of {root} (inotify watches exhausted): only scheduled scans see it; raise {WatchSetting(config)}";
        }
    }

    private async Task TellLimitsAsync(FimStatus status, bool lineOpen)
    {
        var lines = new List<string>();
        if (status.IsFileLimitReached && !_fileLimitTold)
        {
            _fileLimitTold = true;
            lines.Add($"vigil: WARNING: FIM file_limit reached ({N(status.FileLimit)} entries): new files are NOT monitored (rule 200201); "
                + $"raise <file_limit><entries> in <syscheck> of {config.SourcePath}");
        }

        foreach (var root in status.WatchesExhaustedUnder.Where(_exhaustedTold.Add))
        {
            lines.Add($"vigil: WARNING: inotify watches exhausted under {root} ({N(status.Watches)} watches): the rest has no realtime monitoring, "
                + $"only scheduled scans (rule 200200); raise {WatchSetting(config)}");
        }

        if (lines.Count == 0)
        {
            return;
        }

        if (lineOpen)
        {
            await output.WriteLineAsync();
        }

        foreach (var line in lines)
        {
            await output.WriteLineAsync(line);
        }
    }

    private static string Progress(FimStatus status, TimeSpan elapsed)
    {
        var line = $"vigil: first scan: {N(status.FilesScanned)} files, {Bytes(status.BytesScanned)}, {Rate(status.FilesScanned, elapsed)} files/s ({Bytes((long)(status.BytesScanned / Math.Max(elapsed.TotalSeconds, 0.001)))}/s)";
        if (status.EntriesAtStart > 0 && status.FilesScanned > 0 && status.FilesScanned < status.EntriesAtStart)
        {
            var left = TimeSpan.FromSeconds((status.EntriesAtStart - status.FilesScanned) / Math.Max(status.FilesScanned / elapsed.TotalSeconds, 1));
            line += $", {100.0 * status.FilesScanned / status.EntriesAtStart:0}% of the last baseline, about {left.TotalSeconds:0} s left";
        }
        else if (status.EntriesAtStart == 0)
        {
            line += ", first baseline";
        }

        return line;
    }

    /// <summary>What to raise when watches run out: Vigil's own cap when it is set, and the kernel's limit.</summary>
    internal static string WatchSetting(OssecConfig config) =>
        (config.Syscheck.MaxRealtimeWatches > 0
            ? $"<max_realtime_watches> in <syscheck> of {config.SourcePath} (now {N(config.Syscheck.MaxRealtimeWatches)}) or "
            : "")
        + $"fs.inotify.max_user_watches (now {MaxUserWatches()}: sysctl -w fs.inotify.max_user_watches=N)";

    internal static string MaxUserWatches()
    {
        try
        {
            return File.ReadAllText("/proc/sys/fs/inotify/max_user_watches").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string Rate(long files, TimeSpan elapsed) => N((long)(files / Math.Max(elapsed.TotalSeconds, 0.001)));

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
