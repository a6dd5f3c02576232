using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Tests.Common;

namespace Vigil.Cli.Tests;

/// <summary>A watched directory reached through a symbolic link is a warning that names the real directory.</summary>
public sealed class SymbolicLinkWarningTests
{
    private static IReadOnlyList<Diagnostic> Check(TempDirectory temp, string directories)
    {
        var xml = "<ossec_config>\n  <syscheck>\n" + directories + "\n  </syscheck>\n</ossec_config>\n";
        var config = OssecConfigLoader.LoadFromString(xml, temp.Combine("ossec.conf"), new ConfigLoadOptions { Home = temp.Path }).Config;
        return [.. ConfigLoading.CheckInstall(config, missingProgramIsError: true).Where(d => d.Message.StartsWith("<directories>", StringComparison.Ordinal))];
    }

    [Fact]
    public void LinkNotFollowed_WarnsThatNothingUnderItIsMonitored()
    {
        using var temp = new TempDirectory("vigil-links");
        Directory.CreateDirectory(temp.Combine("usr", "bin"));
        File.CreateSymbolicLink(temp.Combine("bin"), "usr/bin");

        var warning = Assert.Single(Check(temp, $"<directories realtime=\"yes\">{temp.Combine("bin")}</directories>"));

        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal(3, warning.Line);
        Assert.Equal(
            $"<directories> {temp.Combine("bin")} is a symbolic link (to usr/bin) and follow_symbolic_link is not set: only the link itself is monitored, nothing under it; name {temp.Combine("usr", "bin")} instead",
            warning.Message);
    }

    [Fact]
    public void LinkFollowedOrInAParent_WarnsThatItsFilesAreNotScannedAndNamesTheRealDirectory()
    {
        using var temp = new TempDirectory("vigil-links");
        Directory.CreateDirectory(temp.Combine("real", "www", "uploads"));
        File.CreateSymbolicLink(temp.Combine("srv"), temp.Combine("real"));
        File.CreateSymbolicLink(temp.Combine("web"), "srv/www");

        var found = Check(temp,
            $"<directories follow_symbolic_link=\"yes\">{temp.Combine("web")}</directories>\n<directories>{temp.Combine("srv", "www", "uploads")}</directories>");

        Assert.Equal(2, found.Count);
        Assert.Equal(
            $"<directories> {temp.Combine("web")} is reached through a symbolic link ({temp.Combine("web")} -> srv/www): its files are monitored, but the YARA and ClamAV engines and the removal never open a file through a symbolic link, so they are neither scanned nor removed; name {temp.Combine("real", "www")} instead",
            found[0].Message);
        Assert.Equal(
            $"<directories> {temp.Combine("srv", "www", "uploads")} is reached through a symbolic link ({temp.Combine("srv")} -> {temp.Combine("real")}): its files are monitored, but the YARA and ClamAV engines and the removal never open a file through a symbolic link, so they are neither scanned nor removed; name {temp.Combine("real", "www", "uploads")} instead",
            found[1].Message);
    }

    [Fact]
    public void RealDirectory_NoWarning()
    {
        using var temp = new TempDirectory("vigil-links");
        Directory.CreateDirectory(temp.Combine("data"));

        Assert.Empty(Check(temp, $"<directories>{temp.Combine("data")}</directories>"));
    }

    [Fact]
    public void LinksThatLoop_OneWarningAndNoHang()
    {
        using var temp = new TempDirectory("vigil-links");
        Directory.CreateDirectory(temp.Combine("data"));
        File.CreateSymbolicLink(temp.Combine("a"), temp.Combine("b"));
        File.CreateSymbolicLink(temp.Combine("b"), temp.Combine("a"));

        var warning = Assert.Single(Check(temp, $"<directories>{temp.Combine("a")}</directories>"));
        Assert.Equal(
            $"<directories> {temp.Combine("a")} is a symbolic link (to {temp.Combine("b")}) and follow_symbolic_link is not set: only the link itself is monitored, nothing under it; name the real directory (its links loop) instead",
            warning.Message);
        Assert.Null(SymbolicLinks.Resolve(temp.Combine("a")));
    }
}
