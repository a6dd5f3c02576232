using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Vigil.Tests.Common;
using static Microsoft.Playwright.Assertions;

namespace Vigil.Dashboard.Tests;

/// <summary>
/// The banner above every page of a real `vigil run`'s dashboard: the first scan's progress while it runs, then each
/// limit reached (file_limit, inotify watches, disk) with the setting to change, polled from /api/status.
/// </summary>
public sealed partial class CoverageBannerTests(Chromium chromium) : IClassFixture<Chromium>
{
    private static readonly TimeSpan s_startup = TimeSpan.FromSeconds(90);
    private static readonly LocatorAssertionsToBeVisibleOptions s_flow = new() { Timeout = 60_000 };

    [GeneratedRegex(@"vigil: dashboard on (http://127\.0\.0\.1:\d+/?)")]
    private static partial Regex DashboardAddress();

    [Fact]
    public async Task Banner_ShowsTheFirstScansProgress_ThenEachLimitWithItsSetting()
    {
        using var temp = new TempDirectory("vigil-banner");
        var watched = temp.Combine("watched");

        // 60 directories of 50 files at 150 files/s: a first scan of about 20 s, past file_limit (400) early; 61
        // directories to watch, a cap of 8; a minimum of free space no disk has.
        for (var d = 0; d < 60; d++)
        {
            var directory = Directory.CreateDirectory(Path.Combine(watched, $"dir-{d:D2}")).FullName;
            for (var f = 0; f < 50; f++)
            {
                await File.WriteAllTextAsync(Path.Combine(directory, $"file-{f:D2}.txt"), $"content {d} {f}");
            }
        }

        var config = temp.WriteFile("home/config/ossec.conf", $"""
            <ossec_config>
              <global><min_free_disk>1000000GB</min_free_disk></global>
              <syscheck>
                <disabled>no</disabled>
                <directories realtime="yes">{watched}</directories>
                <file_limit><enabled>yes</enabled><entries>400</entries></file_limit>
                <max_files_per_second>150</max_files_per_second>
                <max_realtime_watches>8</max_realtime_watches>
              </syscheck>
              <ruleset>
                <rule_dir>{RepositoryPaths.Get("ruleset", "rules")}</rule_dir>
              </ruleset>
            </ossec_config>
            """);
        var home = temp.Combine("home");
        var password = "Admin-" + RandomNumberGenerator.GetHexString(20, lowercase: true);
        await using var vigil = VigilProcess.Start(
            ["run", "--config", config, "--home", home, "--data-dir", Path.Combine(home, "data"), "--web-port", "0"],
            new Dictionary<string, string> { ["VIGIL_ADMIN_PASSWORD"] = password });
        await vigil.WaitForOutputAsync("vigil: dashboard on", s_startup);
        var address = new Uri(DashboardAddress().Match(vigil.Output).Groups[1].Value);

        await using var browser = await chromium.NewSessionAsync(address, nameof(Banner_ShowsTheFirstScansProgress_ThenEachLimitWithItsSetting));
        var page = browser.Page;
        try
        {
            await browser.LoginAsync("admin", password);

            // The first scan, while it runs.
            var progress = page.GetByTestId("scan-progress");
            await Expect(progress).ToBeVisibleAsync(s_flow);
            await Expect(progress).ToContainTextAsync(new Regex(@"Agent 000 \(.+\): first scan in progress: [\d,]+ files, .+, [\d,]+ files/s"));
            await browser.ShotAsync("scan-progress");

            // Each limit, with the setting to change.
            await Expect(page.GetByTestId("limit-file_limit")).ToBeVisibleAsync(s_flow);
            await Expect(page.GetByTestId("limit-file_limit").GetByTestId("limit-setting")).ToContainTextAsync("<syscheck><file_limit><entries>");
            await Expect(page.GetByTestId("limit-inotify_watches")).ToContainTextAsync($"inotify watches exhausted under {watched}");
            await Expect(page.GetByTestId("limit-inotify_watches").GetByTestId("limit-setting")).ToContainTextAsync("<max_realtime_watches> in <syscheck>");
            await Expect(page.GetByTestId("limit-disk")).ToContainTextAsync("Low disk space for ");
            await Expect(page.GetByTestId("limit-disk").GetByTestId("limit-setting")).ToContainTextAsync("<global><min_free_disk>");
            await browser.ShotAsync("limits");

            // The banner is on every page; the progress goes when the scan ends, the limits stay.
            await page.GetByRole(AriaRole.Link, new() { Name = "Quarantine" }).ClickAsync();
            await Expect(page).ToHaveTitleAsync("Quarantine — Vigil");
            await Expect(page.GetByTestId("limit-disk")).ToBeVisibleAsync();
            await vigil.WaitForOutputAsync("vigil: ready", s_startup);
            await Expect(progress).ToHaveCountAsync(0, new() { Timeout = 30_000 });
            await Expect(page.GetByTestId("limit-file_limit")).ToBeVisibleAsync();
            await browser.ShotAsync("after-scan");
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            throw new InvalidOperationException($"{e.Message}\n--- vigil run output ---\n{vigil.Output}", e);
        }

        Assert.Empty(browser.Problems);
        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
    }
}
