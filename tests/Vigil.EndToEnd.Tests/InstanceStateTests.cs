using Vigil.Core;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>Two instances on one install: each owns its data directory, active-response log, key ring and diagnostic log.</summary>
public sealed class InstanceStateTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Run_TwoInstancesOnOneHome_EachRemovalIsSeenOnceByItsOwnInstance()
    {
        using var temp = new TempDirectory("vigil-two");
        var home = TestInstall.WriteShippedHome(temp, "home");
        var userHome = Directory.CreateDirectory(temp.Combine("user-home")).FullName;
        var environment = new Dictionary<string, string> { ["HOME"] = userHome };
        var (dataA, dataB) = (temp.Combine("data-a"), temp.Combine("data-b"));
        var (watchedA, watchedB) = (Directory.CreateDirectory(temp.Combine("watched-a")).FullName, Directory.CreateDirectory(temp.Combine("watched-b")).FullName);
        await using var a = VigilProcess.Start(["run", "--home", home, "--data-dir", dataA, "--directory", watchedA, "--web-port", "0"], environment);
        await using var b = VigilProcess.Start(["run", "--home", home, "--data-dir", dataB, "--directory", watchedB, "--web-port", "0"], environment);
        await a.WaitForOutputAsync("vigil: ready", s_flow);
        await b.WaitForOutputAsync("vigil: ready", s_flow);

        var eicar = Path.Combine(watchedA, "eicar.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);
        var alertsA = new AlertsFile(Path.Combine(dataA, "logs", "alerts", "alerts.json"));
        await alertsA.WaitForAsync(a, s_flow, "200100", "100092", "200303");
        await Task.Delay(TimeSpan.FromSeconds(2)); // a duplicate, or the other instance's copy, would land now

        Assert.Equal(1, alertsA.RuleIds().Count(id => id == "100092"));
        var alertsB = new AlertsFile(Path.Combine(dataB, "logs", "alerts", "alerts.json"));
        Assert.DoesNotContain("100092", alertsB.RuleIds());
        Assert.DoesNotContain("200303", alertsB.RuleIds());
        Assert.Contains(eicar, await File.ReadAllTextAsync(Path.Combine(dataA, "logs", "active-responses.log")), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dataB, "logs", "active-responses.log")) && (await File.ReadAllTextAsync(Path.Combine(dataB, "logs", "active-responses.log"))).Contains(eicar, StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(home, "logs", "active-responses.log")), "an instance wrote the install's shared log");

        // The key ring is the instance's, not $HOME/.aspnet; the diagnostic log has the banner and not the password.
        Assert.True(Directory.Exists(Path.Combine(dataA, "web", "keys")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(userHome));
        Assert.DoesNotContain("No XML encryptor", a.Output, StringComparison.Ordinal);
        var log = await File.ReadAllTextAsync(Path.Combine(dataA, "logs", "vigil.log"));
        Assert.Matches(@"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d vigil: ready \(Ctrl-C stops\)", log);
        Assert.Contains("its password was shown on the console only", log, StringComparison.Ordinal);
        Assert.DoesNotContain("with the password", log, StringComparison.Ordinal);

        Assert.Equal(0, await a.InterruptAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await b.InterruptAsync(TimeSpan.FromSeconds(30)));
    }
}
