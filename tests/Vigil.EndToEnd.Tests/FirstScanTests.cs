using System.Diagnostics;
using Vigil.Core;

namespace Vigil.EndToEnd.Tests;

/// <summary>A first run on a big tree: progress, limits said out loud, and nothing new unchecked, during the scan or after.</summary>
public sealed class FirstScanTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Run_BigTreeOverFileLimit_EicarDuringAndAfterTheFirstScanAreBothQuarantinedAndTheLimitIsLoud()
    {
        // 12,000 files at 1,000 files/s: a first scan of about 12 s, which reaches file_limit (3,000) early on.
        const int Files = 12_000;
        using var fixture = new RunFixture(syscheck: "<file_limit><enabled>yes</enabled><entries>3000</entries></file_limit><max_files_per_second>1000</max_files_per_second>");
        for (var d = 0; d < Files / 500; d++)
        {
            var directory = Directory.CreateDirectory(Path.Combine(fixture.Watched, $"dir-{d:D3}")).FullName;
            for (var f = 0; f < 500; f++)
            {
                await File.WriteAllTextAsync(Path.Combine(directory, $"file-{f:D3}.txt"), $"content {d} {f}");
            }
        }

        await using var vigil = fixture.Start();

        // The dashboard is up before the first scan ends; an EICAR dropped then is seen by the realtime watches.
        await vigil.WaitForOutputAsync("vigil: dashboard on", s_flow);
        var during = Path.Combine(fixture.Watched, "dir-005", "during-scan.com");
        await File.WriteAllBytesAsync(during, Eicar.Bytes);
        Assert.DoesNotContain("vigil: ready", vigil.Output, StringComparison.Ordinal);

        await vigil.WaitForOutputAsync("vigil: ready", s_flow);
        Assert.Matches(@"vigil: first scan: [\d,]+ files, .* files/s", vigil.Output); // plain progress lines (no terminal)
        Assert.Contains("vigil: WARNING: FIM file_limit reached (3,000 entries): new files are NOT monitored", vigil.Output, StringComparison.Ordinal);
        Assert.Contains("raise <file_limit><entries> in <syscheck>", vigil.Output, StringComparison.Ordinal);
        Assert.Matches(@"vigil: first scan done: [\d,]+ files", vigil.Output);
        Assert.Contains("vigil: NOT covered: files beyond file_limit (3,000 entries)", vigil.Output, StringComparison.Ordinal);

        // After ready, the baseline is full: a new file is still checked and removed.
        var after = Path.Combine(fixture.Watched, "dir-007", "after-ready.com");
        await File.WriteAllBytesAsync(after, Eicar.Bytes);

        var clock = Stopwatch.StartNew();
        while ((File.Exists(during) || File.Exists(after)) && clock.Elapsed < s_flow)
        {
            await Task.Delay(100);
        }

        Assert.False(File.Exists(during), $"the EICAR written during the first scan is still there. Output:\n{vigil.Output}");
        Assert.False(File.Exists(after), $"the EICAR written after ready is still there. Output:\n{vigil.Output}");
        var quarantine = await WatchedAnywhereTests.RunToEndAsync(["quarantine", "list", "--json", "--home", fixture.Home, "--data-dir", fixture.Data]);
        Assert.Contains(during, quarantine, StringComparison.Ordinal);
        Assert.Contains(after, quarantine, StringComparison.Ordinal);
        Assert.Contains("200201", fixture.RuleIds());
        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
    }
}
