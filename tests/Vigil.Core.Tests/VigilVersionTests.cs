using System.Diagnostics;

namespace Vigil.Core.Tests;

public sealed class VigilVersionTests
{
    [Fact]
    public void Current_IsTheBuildsVersion()
    {
        // Directory.Build.props sets one Version for every assembly; the informational version carries no commit suffix.
        Assert.True(VigilVersion.TryParse(VigilVersion.Current, out _), VigilVersion.Current);
        Assert.DoesNotContain('+', VigilVersion.Current);
        Assert.Equal(VigilVersion.Current, FileVersionInfo.GetVersionInfo(typeof(VigilVersionTests).Assembly.Location).ProductVersion);
    }

    [Theory]
    [InlineData("1.2.3", "1.2.3")]
    [InlineData("1.2.3", "1.2.2")]
    [InlineData("1.2.3", "0.9.9")]
    [InlineData("1.2.3", "1.2.3-rc.1")]
    [InlineData("1.2.3", "")]
    [InlineData("1.2.3", null)]
    public void CannotServe_AgentOfTheManagersVersionOrOlder_IsServed(string manager, string? agent) =>
        Assert.Null(VigilVersion.CannotServe(manager, agent));

    [Theory]
    [InlineData("1.2.3", "1.2.4", "agent version 1.2.4 is newer than the manager's 1.2.3: upgrade the manager first (a manager serves agents of its version or older)")]
    [InlineData("1.2.3", "2.0.0", "agent version 2.0.0 is newer than the manager's 1.2.3: upgrade the manager first (a manager serves agents of its version or older)")]
    [InlineData("1.2.3", "1.0.0.0", "agent version '1.0.0.0' is not a Vigil version (MAJOR.MINOR.PATCH); the manager is 1.2.3")]
    [InlineData("1.2.3", "x\n", "agent version 'x?' is not a Vigil version (MAJOR.MINOR.PATCH); the manager is 1.2.3")]
    public void CannotServe_NewerOrUnreadable_SaysWhy(string manager, string agent, string expected) =>
        Assert.Equal(expected, VigilVersion.CannotServe(manager, agent));
}
