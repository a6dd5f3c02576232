using Vigil.Core;

namespace Vigil.EndToEnd.Tests;

/// <summary>The README's restore step while `vigil run` watches the file's directory.</summary>
public sealed class RestoreTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_RestoreWhileRunning_FileStaysPutAndTheExemptionCanBeListedAndRevoked()
    {
        using var fixture = new RunFixture();
        await using var vigil = fixture.Start();
        await vigil.WaitForOutputAsync("vigil: ready", s_flow);
        var eicar = Path.Combine(fixture.Watched, "eicar.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);
        await fixture.WaitForRulesAsync(vigil, s_flow, "200303");
        Assert.False(File.Exists(eicar));

        string[] state = ["--home", fixture.Home, "--data-dir", fixture.Data];
        var (code, output) = await WatchedAnywhereTests.RunWithCodeAsync(["quarantine", "restore", "1", .. state]);
        Assert.True(code == 0, output);

        // FIM sees the file come back and the verdict is the same; the removal finds the exemption and leaves it.
        await fixture.WaitForRulesAsync(vigil, s_flow, "200302");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.True(File.Exists(eicar), vigil.Output);
        Assert.Equal(1, fixture.RuleIds().Count(id => id == "200303"));
        var list = await WatchedAnywhereTests.RunToEndAsync(["quarantine", "list", .. state]);
        Assert.DoesNotContain("quarantined ", list, StringComparison.Ordinal);

        var exemptions = await WatchedAnywhereTests.RunToEndAsync(["quarantine", "exemptions", .. state]);
        Assert.Matches($@"\s1\s+active\s+\S+ \S+\s+1\s+{Eicar.Sha256[..16]}\s+""{System.Text.RegularExpressions.Regex.Escape(eicar)}""", exemptions);

        // The same content written elsewhere is still removed.
        var copy = Path.Combine(fixture.Watched, "copy.com");
        await File.WriteAllBytesAsync(copy, Eicar.Bytes);
        await fixture.WaitForRulesAsync(vigil, s_flow, "100092");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (File.Exists(copy) && clock.Elapsed < s_flow)
        {
            await Task.Delay(100);
        }

        Assert.False(File.Exists(copy), vigil.Output);
        Assert.True(File.Exists(eicar));

        (code, output) = await WatchedAnywhereTests.RunWithCodeAsync(["quarantine", "exemptions", "revoke", "1", .. state]);
        Assert.True(code == 0, output);
        Assert.Contains("exemption 1 revoked", output, StringComparison.Ordinal);
        (code, output) = await WatchedAnywhereTests.RunWithCodeAsync(["quarantine", "exemptions", "revoke", "1", .. state]);
        Assert.Equal(1, code);
        Assert.Contains("no active exemption with id 1", output, StringComparison.Ordinal);
        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
    }
}
