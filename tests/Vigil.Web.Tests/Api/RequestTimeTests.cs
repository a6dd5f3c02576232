using Microsoft.Extensions.Time.Testing;
using Vigil.Web.Api;

namespace Vigil.Web.Tests.Api;

public sealed class RequestTimeTests
{
    private static readonly DateTimeOffset Now = TestAlerts.Now;

    [Theory]
    [InlineData("now", 0)]
    [InlineData("now-30s", -30)]
    [InlineData("now-15m", -15 * 60)]
    [InlineData("now-24h", -24 * 3600)]
    [InlineData("now-7d", -7 * 86400)]
    [InlineData("now-2w", -14 * 86400)]
    [InlineData("now+1h", 3600)]
    [InlineData(" now-1h ", -3600)]
    public void TryParse_Relative_CountsFromNow(string text, int seconds)
    {
        Assert.True(RequestTime.TryParse(text, Now, out var time));
        Assert.Equal(Now.AddSeconds(seconds), time);
    }

    [Theory]
    [InlineData("2026-11-28T10:00:00Z", "2026-11-28T10:00:00+00:00")]
    [InlineData("2026-11-28T11:30:00+01:00", "2026-11-28T10:30:00+00:00")]
    [InlineData("2026-11-28T10:00:00", "2026-11-28T10:00:00+00:00")]
    public void TryParse_Iso8601_IsUtc(string text, string expected)
    {
        Assert.True(RequestTime.TryParse(text, Now, out var time));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), time);
        Assert.Equal(TimeSpan.Zero, time.Offset);
    }

    [Theory]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("now-")]
    [InlineData("now-5")]
    [InlineData("now-5y")]
    [InlineData("now - 5m")]
    [InlineData("now-9999999d")]
    public void TryParse_Garbage_IsFalse(string text) => Assert.False(RequestTime.TryParse(text, Now, out _));

    [Fact]
    public void TryRange_Defaults_AreTheLast24Hours()
    {
        Assert.True(RequestTime.TryRange(null, null, new FakeTimeProvider(Now), out var range, out var problem));
        Assert.Null(problem);
        Assert.Equal((Now.AddHours(-24), Now), range);
    }

    [Fact]
    public void TryRange_FromAfterTo_IsAProblem()
    {
        Assert.False(RequestTime.TryRange("now", "now-1h", new FakeTimeProvider(Now), out _, out var problem));
        Assert.Equal(400, problem!.StatusCode);
        Assert.Contains("before", problem.ProblemDetails.Detail, StringComparison.Ordinal);
    }
}
