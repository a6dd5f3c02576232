using System.Diagnostics;
using System.Security.Cryptography;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// `vigil run` with prevention="block", in a private mount namespace whose watched directory is a tmpfs of its own
/// (only that tmpfs is marked; the rest of the machine never passes through the guard). The test acts inside that
/// namespace with nsenter.
/// </summary>
public sealed class PreventionRunTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_BlockMode_ListedBinaryIsRefusedAtExecAlertedWithTheProcessAndQuarantined()
    {
        using var fixture = new RunFixture();
        var binTrue = await File.ReadAllBytesAsync("/bin/true");
        var listed = fixture.Home + "/blocked.sha256";
        await File.WriteAllTextAsync(listed, Convert.ToHexStringLower(SHA256.HashData(binTrue)) + "  listed-true\n");
        var config = Path.Combine(fixture.Home, "config", "ossec.conf");
        var text = (await File.ReadAllTextAsync(config))
            .Replace("<directories realtime=\"yes\">", "<directories realtime=\"yes\" prevention=\"block\">", StringComparison.Ordinal)
            .Replace("<rules_id>87105,200100</rules_id>", "<rules_id>87105,200100,200800,200801</rules_id>", StringComparison.Ordinal)
            .Replace("</ruleset>", $"</ruleset>\n<prevention><hash_list>{listed}</hash_list></prevention>", StringComparison.Ordinal);
        await File.WriteAllTextAsync(config, text);

        string[] launcher = ["unshare", "-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs -o size=64m vigil-e2e \"$0\" && exec \"$@\"", fixture.Watched];
        await using var vigil = VigilProcess.Start(
            launcher, ["run", "--config", config, "--home", fixture.Home, "--data-dir", fixture.Data, "--web-port", "0"]);
        await vigil.WaitForOutputAsync("vigil: ready", s_flow);
        Assert.Contains($"vigil: prevention on {fixture.Watched} (block)", vigil.Output, StringComparison.Ordinal);

        var copy = fixture.Watched + "/listed-true";
        var clean = fixture.Watched + "/clean-true";
        // Written in one go: appending to a copy of /bin/true would open listed content, which is refused too.
        Assert.Equal(0, (await InNamespaceAsync(vigil, "/bin/cp", "/bin/true", copy)).Exit);
        Assert.Equal(0, (await InNamespaceAsync(vigil, "/bin/sh", "-c", $"{{ cat /bin/true; printf x; }} > {clean} && chmod +x {clean}")).Exit);
        Assert.Equal(0, (await InNamespaceAsync(vigil, clean)).Exit);

        var refused = await InNamespaceAsync(vigil, copy);
        Assert.NotEqual(0, refused.Exit);
        Assert.Contains("Operation not permitted", refused.Output, StringComparison.Ordinal);

        await fixture.WaitForRulesAsync(vigil, s_flow, "200801", "100092", "553");
        var alert = fixture.Alerts().First(a => a.GetProperty("rule").GetProperty("id").GetString() == "200801");
        var prevention = alert.GetProperty("data").GetProperty("vigil").GetProperty("prevention");
        Assert.Equal(copy, prevention.GetProperty("file").GetString());
        Assert.Equal("blocked.sha256", prevention.GetProperty("source").GetString());
        Assert.Equal("/usr/bin/nsenter", prevention.GetProperty("process").GetProperty("exe").GetString());
        Assert.Contains(copy, prevention.GetProperty("process").GetProperty("cmdline").GetString(), StringComparison.Ordinal);
        Assert.Contains("denied executing " + copy, alert.GetProperty("rule").GetProperty("description").GetString(), StringComparison.Ordinal);

        // Quarantined by the shipped flow: gone from the directory, held in the vault.
        Assert.NotEqual(0, (await InNamespaceAsync(vigil, "/usr/bin/test", "-e", copy)).Exit);
        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    private static async Task<(int Exit, string Output)> InNamespaceAsync(VigilProcess vigil, params string[] command)
    {
        var info = new ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-t", vigil.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "-m", "--" }.Concat(command))
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
