using Microsoft.Extensions.Time.Testing;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;
using Vigil.Tests.Common;

namespace Vigil.Core.Tests.Diagnostics;

/// <summary>The data directory's free space, read from the real file system, against min_free_disk.</summary>
public sealed class DiskSpaceMonitorTests
{
    [Fact]
    public void Check_BelowTheMinimum_SaysSoOnceWithTheSettingToChange()
    {
        using var temp = new TempDirectory("vigil-disk");

        // No file system here has a million gigabytes free.
        var monitor = new DiskSpaceMonitor(temp.Path, 1_000_000L << 30, new FakeTimeProvider());

        var first = monitor.Check();
        var second = monitor.Check();

        Assert.NotNull(first);
        Assert.Equal(EventMessage.LocalFileQueue, first.Queue);
        Assert.StartsWith($"{DiskSpaceMonitor.LowPrefix} for {temp.Path}: ", first.Message, StringComparison.Ordinal);
        Assert.Contains("below min_free_disk 976.6 TiB; free space there, or change <min_free_disk> in <global>", first.Message, StringComparison.Ordinal);
        Assert.Null(second); // said once, not at every reading
        var reading = monitor.Last!;
        Assert.True(reading.IsLow);
        Assert.True(reading.FreeBytes > 0 && reading.FreeBytes <= reading.TotalBytes);
    }

    [Fact]
    public void Check_AboveTheMinimumOrOff_SaysNothing()
    {
        using var temp = new TempDirectory("vigil-disk");

        Assert.Null(new DiskSpaceMonitor(temp.Path, 1, new FakeTimeProvider()).Check());
        var off = new DiskSpaceMonitor(temp.Path, 0, new FakeTimeProvider());
        Assert.Null(off.Check());
        Assert.False(off.Last!.IsLow);
    }
}
