using System.Globalization;
using Vigil.Core.Events;

namespace Vigil.Core.Diagnostics;

/// <summary>The free space of the file system that holds a data directory, as last read.</summary>
public sealed record DiskSpaceReading(string Directory, long FreeBytes, long TotalBytes, long MinimumFreeBytes, DateTimeOffset At)
{
    /// <summary>Whether the free space is below <c>&lt;global&gt;&lt;min_free_disk&gt;</c>.</summary>
    public bool IsLow => MinimumFreeBytes > 0 && FreeBytes < MinimumFreeBytes;
}

/// <summary>
/// Watches the free space of the file system holding the data directory (the durable queue, the FIM baseline, the
/// alert files and index, the quarantine vault all grow there) against <c>&lt;global&gt;&lt;min_free_disk&gt;</c>.
/// When it falls below, it says so once, loudly (the console line, and a queue-1 message that rule 200404 alerts on),
/// and again when it is back above (rule 200405). Nothing is stopped or dropped because of it: it is a warning before
/// the disk fills and SQLite starts refusing writes.
/// </summary>
public sealed class DiskSpaceMonitor(string directory, long minimumFreeBytes, TimeProvider time)
{
    /// <summary>The text rule 200404 matches.</summary>
    public const string LowPrefix = "vigil: Low disk space";

    /// <summary>The text rule 200405 matches.</summary>
    public const string RecoveredPrefix = "vigil: Disk space recovered";

    /// <summary>Where the messages come from (their location).</summary>
    public const string Location = "vigil-disk";

    private DiskSpaceReading? _last;
    private bool _low;

    /// <summary>The last reading, or null before the first.</summary>
    public DiskSpaceReading? Last => Volatile.Read(ref _last);

    /// <summary>Reads the free space now (statvfs of the directory's file system).</summary>
    public DiskSpaceReading Read()
    {
        var drive = new DriveInfo(Path.GetFullPath(directory));
        var reading = new DiskSpaceReading(directory, drive.AvailableFreeSpace, drive.TotalSize, minimumFreeBytes, time.GetUtcNow());
        Volatile.Write(ref _last, reading);
        return reading;
    }

    /// <summary>
    /// Reads the free space and returns the message to publish when it has just gone below the minimum or back
    /// above it; null when nothing changed (or the directory cannot be read: the next reading tries again).
    /// </summary>
    public EventMessage? Check()
    {
        DiskSpaceReading reading;
        try
        {
            reading = Read();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }

        if (reading.IsLow == _low)
        {
            return null;
        }

        _low = reading.IsLow;
        return new EventMessage(EventMessage.LocalFileQueue, Location, _low ? LowText(reading) : RecoveredText(reading));
    }

    /// <summary>Checks every <paramref name="interval"/> until cancelled, handing each change to <paramref name="changed"/>.</summary>
    public async Task RunAsync(TimeSpan interval, Func<EventMessage, DiskSpaceReading, CancellationToken, ValueTask> changed, CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(interval, time);
            do
            {
                if (Check() is { } message)
                {
                    await changed(message, Last!, cancellationToken);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The alert's text: where, how much is free, the minimum and the setting to change.</summary>
    public static string LowText(DiskSpaceReading reading) =>
        $"vigil: {Summary(reading)}; free space there, or change <min_free_disk> in <global>";

    /// <summary>What is low, without the prefix and the advice (the dashboard shows the setting beside it).</summary>
    public static string Summary(DiskSpaceReading reading) =>
        $"Low disk space for {reading.Directory}: {Size(reading.FreeBytes)} free of {Size(reading.TotalBytes)}, below min_free_disk {Size(reading.MinimumFreeBytes)}";

    private static string RecoveredText(DiskSpaceReading reading) =>
        $"{RecoveredPrefix} for {reading.Directory}: {Size(reading.FreeBytes)} free, min_free_disk {Size(reading.MinimumFreeBytes)}";

    /// <summary>A size as people read it (1.5 GiB).</summary>
    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 40 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 40):0.0} TiB"),
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}
