using Vigil.Core.Configuration;
using Vigil.Fim.Scanning;

namespace Vigil.Fim.Tests.Scanning;

public sealed class ScanScheduleTests
{
    private static readonly DateTimeOffset s_monday = new(2026, 1, 5, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Next_FrequencyOnly_IsFrequencyAfterLastEnd()
    {
        var options = new SyscheckOptions { FrequencySeconds = 3600 };
        Assert.Equal(s_monday.AddHours(1).AddMinutes(5), ScanSchedule.Next(options, s_monday, s_monday.AddMinutes(5)));
    }

    [Fact]
    public void Next_ScanTimeAndDay_IsNextMatchingDayAtTime()
    {
        var options = new SyscheckOptions { FrequencySeconds = 604800, ScanTime = new TimeOnly(22, 0), ScanDay = DayOfWeek.Wednesday };
        Assert.Equal(new DateTimeOffset(2026, 1, 7, 22, 0, 0, TimeSpan.Zero), ScanSchedule.Next(options, s_monday, s_monday));
    }

    [Fact]
    public void Next_ScanTimePassedToday_IsTomorrow()
    {
        var options = new SyscheckOptions { FrequencySeconds = 604800, ScanTime = new TimeOnly(9, 0) };
        Assert.Equal(new DateTimeOffset(2026, 1, 6, 9, 0, 0, TimeSpan.Zero), ScanSchedule.Next(options, s_monday, s_monday));
    }
}
