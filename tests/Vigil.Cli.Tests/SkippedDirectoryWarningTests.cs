using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Tests.Common;

namespace Vigil.Cli.Tests;

/// <summary>A watched directory that a skip_* option leaves out (as /dev/shm under skip_dev) is a warning naming the option.</summary>
public sealed class SkippedDirectoryWarningTests
{
    private static IReadOnlyList<Diagnostic> Check(TempDirectory temp, string syscheck)
    {
        var xml = "<ossec_config>\n  <syscheck>\n" + syscheck + "\n  </syscheck>\n</ossec_config>\n";
        var config = OssecConfigLoader.LoadFromString(xml, temp.Combine("ossec.conf"), new ConfigLoadOptions { Home = temp.Path }).Config;
        return [.. ConfigLoading.CheckInstall(config, missingProgramIsError: true).Where(d => d.Message.StartsWith("<directories>", StringComparison.Ordinal))];
    }

    [Fact]
    public void UnderDev_WarnsWithTheOptionThatTakesItIn()
    {
        using var temp = new TempDirectory("vigil-skip");

        var warning = Assert.Single(Check(temp, "<directories realtime=\"yes\">/dev/shm</directories>"));

        Assert.Equal((DiagnosticSeverity.Warning, 3), (warning.Severity, warning.Line));
        Assert.Equal(
            "<directories> /dev/shm is left out by <skip_dev> (yes by default): nothing under it is monitored; set <skip_dev>no</skip_dev> in <syscheck> to monitor it",
            warning.Message);
    }

    [Fact]
    public void UnderProc_NamesSkipProc()
    {
        using var temp = new TempDirectory("vigil-skip");

        var warning = Assert.Single(Check(temp, "<directories>/proc/self</directories>"));

        Assert.Contains("left out by <skip_proc>", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SkipDevNo_NoWarning()
    {
        using var temp = new TempDirectory("vigil-skip");

        Assert.Empty(Check(temp, "<skip_dev>no</skip_dev>\n<directories realtime=\"yes\">/dev/shm</directories>"));
    }
}
