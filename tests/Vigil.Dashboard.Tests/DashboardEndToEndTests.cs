using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Playwright;
using Vigil.Core;
using static Microsoft.Playwright.Assertions;

namespace Vigil.Dashboard.Tests;

/// <summary>
/// The dashboard of a real `vigil run` in Chromium: an admin watches EICAR arrive live, follows its detection chain
/// and restores it; a viewer cannot; a malformed query is explained.
/// </summary>
public sealed class DashboardEndToEndTests(Chromium chromium, DashboardFixture vigil) : IClassFixture<Chromium>, IClassFixture<DashboardFixture>
{
    private const string Query = "rule.id: is one of 553,100092,87105,100201";
    private static readonly string[] s_stages = ["fim", "verdict", "response", "quarantine"];
    private static readonly LocatorAssertionsToBeVisibleOptions s_flow = new() { Timeout = 60_000 };

    [Fact]
    public async Task Eicar_RowsArriveLive_ChainHasEveryStage_ViewerCannotRestore_AdminRestoresTheSameBytes()
    {
        var name = nameof(Eicar_RowsArriveLive_ChainHasEveryStage_ViewerCannotRestore_AdminRestoresTheSameBytes);
        await using var admin = await chromium.NewSessionAsync(vigil.BaseAddress, name + "-admin");
        var page = admin.Page;

        // (a) The admin logs in.
        await WithOutputAsync(() => admin.LoginAsync("admin", vigil.AdminPassword));
        await Expect(page).ToHaveTitleAsync("Threat Hunting — Vigil");
        await Expect(page.GetByTestId("user-role")).ToHaveTextAsync("admin");

        // (b) The seed's query, live.
        await admin.SearchAsync(Query);
        await Expect(page.GetByTestId("error")).ToBeHiddenAsync();
        await Expect(page.GetByTestId("live-indicator")).ToHaveAttributeAsync("data-state", "on");
        var before = await HistogramTotalAsync(page);
        await admin.ShotAsync("searched");

        // (c) EICAR lands in the watched directory; its rows arrive without a reload.
        await page.EvaluateAsync("() => { window.vigilTestMarker = 'same page'; }");
        var eicar = Path.Combine(vigil.WatchedDirectory, $"eicar-{Guid.NewGuid():N}.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);
        foreach (var rule in new[] { "100201", "87105", "100092", "553" })
        {
            await WithOutputAsync(() => Expect(AlertRow(page, eicar, rule).First).ToBeVisibleAsync(s_flow));
        }

        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.vigilTestMarker"));
        var order = await page.Locator($"[data-testid=alert-row][data-file=\"{eicar}\"]")
            .EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.ruleId).reverse()");
        Assert.True(IsBefore(order, "100201", "87105") && IsBefore(order, "87105", "100092"), string.Join(",", order));
        Assert.True(await HistogramTotalAsync(page) >= before + 4, "the histogram counts the live alerts");
        await admin.ShotAsync("live-rows");

        // The FIM alert's detail leads to the file's detection chain.
        await AlertRow(page, eicar, "100201").First.ClickAsync();
        await Expect(page.GetByTestId("alert-json")).ToContainTextAsync(eicar);
        await admin.ShotAsync("detail");
        await page.GetByTestId("chain-link").ClickAsync();
        await Expect(page).ToHaveTitleAsync("Detection chain — Vigil");
        foreach (var stage in s_stages)
        {
            await WithOutputAsync(() => Expect(page.Locator($"[data-testid=chain-step][data-stage={stage}]").First).ToBeVisibleAsync(s_flow));
        }

        var stages = await page.GetByTestId("chain-step").EvaluateAllAsync<string[]>("steps => steps.map(s => s.dataset.stage)");
        Assert.Equal(s_stages, stages.Where(s_stages.Contains).Distinct());
        Assert.Equal("100201", await page.Locator("[data-testid=chain-step][data-stage=fim]").First.GetAttributeAsync("data-rule-id"));
        Assert.Equal("87105", await page.Locator("[data-testid=chain-step][data-stage=verdict]").First.GetAttributeAsync("data-rule-id"));
        await Expect(page.Locator("[data-testid=chain-quarantine-row][data-state=quarantined]")).ToBeVisibleAsync(s_flow);
        await admin.ShotAsync("chain");
        Assert.False(File.Exists(eicar), "EICAR was quarantined");

        // (e) A viewer sees the record but cannot restore it, in the page or by a direct POST with its session.
        await using (var viewer = await chromium.NewSessionAsync(vigil.BaseAddress, name + "-viewer"))
        {
            await viewer.LoginAsync(DashboardFixture.ViewerUserName, vigil.ViewerPassword);
            await viewer.Page.GetByRole(AriaRole.Link, new() { Name = "Quarantine" }).ClickAsync();
            await Expect(viewer.Page).ToHaveTitleAsync("Quarantine — Vigil");
            var row = QuarantineRow(viewer.Page, eicar);
            await Expect(row).ToHaveAttributeAsync("data-state", "quarantined");
            var restore = row.GetByTestId("restore-button");
            if (await restore.CountAsync() > 0)
            {
                await Expect(restore).ToBeDisabledAsync();
            }

            var status = await viewer.Page.EvaluateAsync<int>("""
                async ([agent, id]) => {
                  const me = await (await fetch('/api/me')).json();
                  const answer = await fetch(`/api/quarantine/${encodeURIComponent(agent)}/${encodeURIComponent(id)}/restore`,
                    { method: 'POST', headers: { 'X-CSRF-Token': me.csrfToken } });
                  return answer.status;
                }
                """, new[] { await row.GetAttributeAsync("data-agent-id"), await row.GetAttributeAsync("data-id") });
            Assert.Equal(403, status);
            await viewer.ShotAsync("viewer-quarantine");
        }

        Assert.False(File.Exists(eicar), "a viewer's restore did nothing");

        // (d) The admin restores it: the same bytes are back.
        await page.GetByRole(AriaRole.Link, new() { Name = "Quarantine" }).ClickAsync();
        await Expect(page).ToHaveTitleAsync("Quarantine — Vigil");
        var adminRow = QuarantineRow(page, eicar);
        await adminRow.GetByTestId("restore-button").ClickAsync();
        await Expect(page.GetByTestId("message")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("error")).ToBeHiddenAsync();
        await WithOutputAsync(() => Expect(adminRow).ToHaveAttributeAsync("data-state", "restored", new() { Timeout = 60_000 }));
        Assert.True(File.Exists(eicar), $"{eicar} is back");
        Assert.Equal(Eicar.Sha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(eicar))));
        await admin.ShotAsync("restored");
        Assert.Empty(admin.Problems);
    }

    [Fact]
    public async Task MalformedQuery_ShowsTheProblemDetail()
    {
        await using var browser = await chromium.NewSessionAsync(vigil.BaseAddress, nameof(MalformedQuery_ShowsTheProblemDetail));
        var page = browser.Page;
        await WithOutputAsync(() => browser.LoginAsync(DashboardFixture.ViewerUserName, vigil.ViewerPassword));
        await Expect(page.GetByTestId("user-role")).ToHaveTextAsync("viewer");

        var answer = await page.RunAndWaitForResponseAsync(
            () => browser.SearchAsync("rule.id: (553 or 100092"),
            // This search's answer, not that of the page's first load (which can still be on its way).
            r => r.Url.Contains("/api/alerts?", StringComparison.Ordinal)
                && Uri.UnescapeDataString(r.Url.Replace('+', ' ')).Contains("(553 or 100092", StringComparison.Ordinal));
        Assert.Equal(400, answer.Status);
        var detail = (await answer.JsonAsync())!.Value.GetProperty("detail").GetString();
        Assert.False(string.IsNullOrWhiteSpace(detail));
        var error = page.GetByRole(AriaRole.Alert);
        await Expect(error).ToHaveTextAsync(detail!);
        await Expect(error).ToHaveAttributeAsync("data-testid", "error");
        await browser.ShotAsync("malformed");
        Assert.Empty(browser.Problems);
    }

    private static ILocator AlertRow(IPage page, string file, string ruleId) =>
        page.Locator($"[data-testid=alert-row][data-file=\"{file}\"][data-rule-id=\"{ruleId}\"]");

    private static ILocator QuarantineRow(IPage page, string path) =>
        page.Locator($"[data-testid=quarantine-row][data-path=\"{path}\"]").First;

    private static bool IsBefore(string[] order, string first, string then) =>
        Array.IndexOf(order, first) >= 0 && Array.IndexOf(order, first) < Array.IndexOf(order, then);

    private static Task<int> HistogramTotalAsync(IPage page) =>
        page.GetByTestId("histogram-bar").EvaluateAllAsync<int>("bars => bars.reduce((n, b) => n + Number(b.dataset.count), 0)");

    /// <summary>Runs a step; when it fails, the failure carries what `vigil run` printed.</summary>
    private async Task WithOutputAsync(Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException or JsonException)
        {
            throw new InvalidOperationException($"{e.Message}\n--- vigil run output ---\n{vigil.Output}", e);
        }
    }
}
