using Vigil.Core.Configuration;

namespace Vigil.Fim.Scanning;

/// <summary>When the next scheduled scan is due: <c>frequency</c> after the last one ended, or at <c>scan_time</c>/<c>scan_day</c>.</summary>
internal static class ScanSchedule
{
    public static DateTimeOffset Next(SyscheckOptions options, DateTimeOffset lastStart, DateTimeOffset lastEnd)
    {
        var byFrequency = lastEnd + TimeSpan.FromSeconds(Math.Max(1, options.FrequencySeconds));
        if (options.ScanTime is null && options.ScanDay is null)
        {
            return byFrequency;
        }

        // The first scan_time (and scan_day) after the last scan started.
        var time = options.ScanTime ?? TimeOnly.MinValue;
        var candidate = new DateTimeOffset(DateOnly.FromDateTime(lastStart.DateTime).ToDateTime(time), lastStart.Offset);
        if (candidate <= lastStart)
        {
            candidate = candidate.AddDays(1);
        }

        while (options.ScanDay is { } day && candidate.DayOfWeek != day)
        {
            candidate = candidate.AddDays(1);
        }

        return candidate < byFrequency ? candidate : byFrequency;
    }
}
