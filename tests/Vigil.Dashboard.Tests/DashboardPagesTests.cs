using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Vigil.Dashboard.Tests;

/// <summary>
/// The dashboard pages in Chromium against <see cref="ContractServer"/>, which answers as docs/api.md says: what
/// each page shows, the live rows, CSRF headers, roles, and the error and rate-limit messages. The same pages
/// against the real `vigil run` are in <see cref="DashboardEndToEndTests"/>.
/// </summary>
public sealed partial class DashboardPagesTests(Chromium chromium) : IClassFixture<Chromium>, IAsyncLifetime
{
    private const string Query = "rule.id: is one of 553,100092,87105,100201";
    private ContractServer _server = null!;

    public async Task InitializeAsync() => _server = await ContractServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Login_WrongPasswordAndRateLimit_ShowMessages()
    {
        await using var browser = await chromium.NewSessionAsync(_server.BaseAddress, nameof(Login_WrongPasswordAndRateLimit_ShowMessages));
        var page = browser.Page;
        await page.GotoAsync("/login");
        await Expect(page).ToHaveTitleAsync("Log in — Vigil");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Log in");

        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync("not-the-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Wrong user name or password.");
        await browser.ShotAsync("wrong-password");

        await page.GetByLabel("User name").FillAsync(ContractServer.RateLimitedUser);
        await page.GetByLabel("Password").FillAsync("anything");
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(page.GetByTestId("error")).ToHaveTextAsync(WaitRegex());
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Log in" })).ToBeDisabledAsync();
        await browser.ShotAsync("rate-limited");
        Assert.Empty(browser.Problems);
    }

    [Fact]
    public async Task Dashboard_WithoutSession_GoesToLogin_AndBackAfterLogin()
    {
        await using var browser = await chromium.NewSessionAsync(_server.BaseAddress, nameof(Dashboard_WithoutSession_GoesToLogin_AndBackAfterLogin));
        var page = browser.Page;
        await page.GotoAsync("/#/intel");
        await page.WaitForURLAsync("**/login**");
        await page.GetByLabel("User name").FillAsync("viewer");
        await page.GetByLabel("Password").FillAsync(ContractServer.ViewerPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await page.WaitForURLAsync("**/#/intel");
        await Expect(page).ToHaveTitleAsync("Intelligence — Vigil");
        await Expect(page.GetByTestId("user-role")).ToHaveTextAsync("viewer");

        await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await page.WaitForURLAsync("**/login");
        Assert.Contains("POST /api/logout csrf=ok", _server.StateChanges);
        await page.GotoAsync("/#/hunting");
        await page.WaitForURLAsync("**/login**");
        await browser.ShotAsync("logged-out");
    }

    [Fact]
    public async Task Hunting_Search_LiveRows_Histogram_Detail_Chain()
    {
        var now = ContractServer.Time.GetUtcNow();
        _server.AddAlert("100201", 7, "File added to the watched directory", "/srv/w/old.txt", now.AddHours(-2));
        _server.AddAlert("5402", 3, "Successful sudo to ROOT executed", "", now.AddHours(-1));
        _server.AddAlert("553", 7, "File deleted.", "/srv/w/old.txt", now.AddMinutes(-50));

        await using var browser = await chromium.NewSessionAsync(_server.BaseAddress, nameof(Hunting_Search_LiveRows_Histogram_Detail_Chain));
        var page = browser.Page;
        await browser.LoginAsync("admin", ContractServer.AdminPassword);
        await Expect(page).ToHaveTitleAsync("Threat Hunting — Vigil");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Threat Hunting");
        await Expect(page.GetByTestId("user-role")).ToHaveTextAsync("admin");
        await Expect(page.GetByTestId("alert-row")).ToHaveCountAsync(3);
        await Expect(page.GetByTestId("time-range")).ToHaveValueAsync("now-24h");

        await browser.SearchAsync(Query);
        await Expect(page.GetByTestId("alert-row")).ToHaveCountAsync(2);
        await Expect(page.GetByTestId("total")).ToHaveTextAsync("2 alerts");
        await Expect(page.GetByTestId("histogram-bar")).ToHaveCountAsync(60);
        Assert.Equal(2, await HistogramTotalAsync(page));
        await Expect(page.GetByTestId("live-indicator")).ToHaveAttributeAsync("data-state", "on");
        await browser.ShotAsync("searched");

        // New alerts arrive over the stream, newest on top; the server's filter keeps 5402 out.
        var file = "/srv/w/dir with a long name/that goes on and on and on/eicar.com";
        var fim = _server.Publish("100201", 7, "File added to the watched directory", file, now);
        _server.Publish("5402", 3, "Successful sudo to ROOT executed", "", now);
        _server.Publish("87105", 12, "VirusTotal: Alert - eicar.com - 66 engines detected this file", file, now);
        _server.Publish("100092", 12, "Active response: threat removed", file, now);
        _server.Publish("553", 7, "File deleted.", file, now);
        var rows = page.GetByTestId("alert-row");
        await Expect(rows).ToHaveCountAsync(6);
        Assert.Equal(["553", "100092", "87105", "100201", "553", "100201"],
            await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.ruleId)"));
        await Expect(page.GetByTestId("total")).ToHaveTextAsync("6 alerts");
        Assert.Equal(6, await HistogramTotalAsync(page));
        var fileCell = rows.First.GetByTestId("alert-file");
        await Expect(fileCell).ToHaveAttributeAsync("title", file);
        Assert.True(await fileCell.EvaluateAsync<bool>("e => e.scrollWidth > e.clientWidth"), "a long path is cut with an ellipsis");
        await browser.ShotAsync("live-rows");

        var fimRow = page.Locator($"[data-testid=alert-row][data-alert-id='{fim["id"]}']");
        await Expect(fimRow).ToHaveAttributeAsync("data-file", file);
        await fimRow.ClickAsync();
        await Expect(page.GetByTestId("alert-json")).ToContainTextAsync("\"syscheck\": {");
        await browser.ShotAsync("detail");
        await page.GetByTestId("chain-link").ClickAsync();

        await Expect(page).ToHaveTitleAsync("Detection chain — Vigil");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Detection chain");
        var steps = page.GetByTestId("chain-step");
        await Expect(steps).ToHaveCountAsync(4);
        Assert.Equal(["fim", "verdict", "response", "quarantine"], await steps.EvaluateAllAsync<string[]>("s => s.map(e => e.dataset.stage)"));
        Assert.Equal(["100201", "87105", "100092", "553"], await steps.EvaluateAllAsync<string[]>("s => s.map(e => e.dataset.ruleId)"));
        await Expect(steps.Nth(1).GetByTestId("caused-by")).ToHaveAttributeAsync("data-caused-by", fim["id"]!.GetValue<string>());
        await Expect(page.GetByTestId("live-indicator")).ToHaveAttributeAsync("data-state", "on");

        // The chain refreshes when an alert for its file arrives.
        _server.Publish("200100", 12, "Local intelligence: known malware", file, now);
        await Expect(steps).ToHaveCountAsync(5);
        Assert.Equal(["fim", "verdict", "verdict", "response", "quarantine"], await steps.EvaluateAllAsync<string[]>("s => s.map(e => e.dataset.stage)"));
        await browser.ShotAsync("chain");
        Assert.Empty(browser.Problems);
    }

    [Fact]
    public async Task Hunting_MalformedQuery_ShowsProblemDetail()
    {
        await using var browser = await chromium.NewSessionAsync(_server.BaseAddress, nameof(Hunting_MalformedQuery_ShowsProblemDetail));
        var page = browser.Page;
        await browser.LoginAsync("viewer", ContractServer.ViewerPassword);
        await page.GetByLabel("Query", new() { Exact = true }).FillAsync("rule.id: (553 or 100092");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        var error = page.GetByRole(AriaRole.Alert);
        await Expect(error).ToHaveTextAsync(ContractServer.MalformedDetail);
        await Expect(error).ToHaveAttributeAsync("data-testid", "error");
        await browser.ShotAsync("malformed");

        await browser.SearchAsync("rule.id: (553 or 100092)");
        await Expect(page.GetByTestId("error")).ToBeHiddenAsync();
        Assert.Empty(browser.Problems);
    }

    [Fact]
    public async Task Hunting_TimePicker_SendsTheRange_LiveOnlyWhenItEndsNow()
    {
        await using var browser = await chromium.NewSessionAsync(_server.BaseAddress, nameof(Hunting_TimePicker_SendsTheRange_LiveOnlyWhenItEndsNow));
        var page = browser.Page;
        await browser.LoginAsync("viewer", ContractServer.ViewerPassword);
        var range = page.GetByLabel("Time range");
        Assert.Equal(["Last 15 minutes", "Last 1 hour", "Last 24 hours", "Last 7 days", "Last 30 days", "Custom range"],
            await range.Locator("option").AllTextContentsAsync());

        var request = await page.RunAndWaitForRequestAsync(() => range.SelectOptionAsync("now-7d"), r => r.Url.Contains("/api/alerts?", StringComparison.Ordinal));
        Assert.Contains("from=now-7d", request.Url, StringComparison.Ordinal);
        Assert.Contains("to=now", request.Url, StringComparison.Ordinal);
        await Expect(page.GetByTestId("live-indicator")).ToHaveAttributeAsync("data-state", "on");

        await range.SelectOptionAsync("custom");
        await page.GetByLabel("From", new() { Exact = true }).FillAsync("2026-11-01T08:00");
        await page.GetByLabel("To", new() { Exact = true }).FillAsync("2026-11-02T08:00");
        request = await page.RunAndWaitForRequestAsync(
            () => page.GetByTestId("search-button").ClickAsync(), r => r.Url.Contains("/api/alerts/histogram?", StringComparison.Ordinal));
        var sent = System.Web.HttpUtility.ParseQueryString(new Uri(request.Url).Query);
        Assert.Matches(@"^2026-11-0[12]T\d\d:00:00\.000Z$", sent["from"]);
        Assert.Equal(TimeSpan.FromDays(1), DateTimeOffset.Parse(sent["to"]!, System.Globalization.CultureInfo.InvariantCulture)
            - DateTimeOffset.Parse(sent["from"]!, System.Globalization.CultureInfo.InvariantCulture));
        await Expect(page.GetByTestId("live-indicator")).ToHaveAttributeAsync("data-state", "off");
        Assert.Contains("range=custom", page.Url, StringComparison.Ordinal);
        await browser.ShotAsync("custom-range");
        Assert.Empty(browser.Problems);
    }

    [Fact]
    public async Task Quarantine_ViewerCannotRestore_AdminRestoresAndDeletes()
    {
        _server.AddQuarantined("q1", "/srv/w/eicar.com", new string('a', 64), "1.1");
        _server.AddQuarantined("q2", "/srv/w/other.com", new string('b', 64), "1.2");

        await using (var viewer = await chromium.NewSessionAsync(_server.BaseAddress, nameof(Quarantine_ViewerCannotRestore_AdminRestoresAndDeletes) + "-viewer"))
        {
            await viewer.LoginAsync("viewer", ContractServer.ViewerPassword);
            await viewer.Page.GotoAsync("/#/quarantine");
            await Expect(viewer.Page).ToHaveTitleAsync("Quarantine — Vigil");
            var row = viewer.Page.Locator("[data-testid=quarantine-row][data-path='/srv/w/eicar.com']");
            await Expect(row).ToHaveAttributeAsync("data-state", "quarantined");
            await Expect(row.GetByTestId("restore-button")).ToBeDisabledAsync();
            await Expect(row.GetByTestId("delete-button")).ToBeDisabledAsync();
            var status = await viewer.Page.EvaluateAsync<int>("""
                async () => (await fetch('/api/quarantine/000/q1/restore', { method: 'POST',
                  headers: { 'X-CSRF-Token': decodeURIComponent(document.cookie.match(/vigil_csrf=([^;]+)/)[1]) } })).status
                """);
            Assert.Equal(403, status);
            await viewer.ShotAsync("viewer");
        }

        Assert.Equal("quarantined", _server.QuarantineState("q1"));

        await using var admin = await chromium.NewSessionAsync(_server.BaseAddress, nameof(Quarantine_ViewerCannotRestore_AdminRestoresAndDeletes) + "-admin");
        var page = admin.Page;
        await admin.LoginAsync("admin", ContractServer.AdminPassword);
        await page.GetByRole(AriaRole.Link, new() { Name = "Quarantine" }).ClickAsync();
        var eicar = page.Locator("[data-testid=quarantine-row][data-path='/srv/w/eicar.com']");
        await eicar.GetByRole(AriaRole.Button, new() { Name = "Restore" }).ClickAsync();
        await Expect(page.GetByTestId("message")).ToHaveTextAsync("Restored /srv/w/eicar.com to /srv/w/eicar.com.");
        await Expect(eicar).ToHaveAttributeAsync("data-state", "restored");
        await Expect(eicar.GetByTestId("restore-button")).ToHaveCountAsync(0);
        Assert.Equal("restored", _server.QuarantineState("q1"));
        Assert.Contains("POST /api/quarantine/000/q1/restore csrf=ok", _server.StateChanges);
        await admin.ShotAsync("restored");

        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        var other = page.Locator("[data-testid=quarantine-row][data-path='/srv/w/other.com']");
        await other.GetByTestId("delete-button").ClickAsync();
        await Expect(other).ToHaveAttributeAsync("data-state", "deleted");
        Assert.Equal("deleted", _server.QuarantineState("q2"));

        await admin.ShotAsync("deleted");
        Assert.Empty(admin.Problems);
    }

    [Fact]
    public async Task AgentsAndIntelligence_ShowTheirTables()
    {
        await using var browser = await chromium.NewSessionAsync(_server.BaseAddress, nameof(AgentsAndIntelligence_ShowTheirTables));
        var page = browser.Page;
        await browser.LoginAsync("admin", ContractServer.AdminPassword);
        await page.GetByRole(AriaRole.Link, new() { Name = "Agents" }).ClickAsync();
        await Expect(page).ToHaveTitleAsync("Agents — Vigil");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Agents");
        await Expect(page.GetByTestId("agent-row")).ToHaveCountAsync(2);
        await Expect(page.GetByTestId("remove-agent-button")).ToHaveCountAsync(2);
        await browser.ShotAsync("agents");

        await page.GetByRole(AriaRole.Link, new() { Name = "Intelligence" }).ClickAsync();
        await Expect(page).ToHaveTitleAsync("Intelligence — Vigil");
        await Expect(page.GetByTestId("intel-minute")).ToHaveTextAsync("1 / 4 used · 3 left");
        await Expect(page.GetByTestId("intel-day")).ToHaveTextAsync("12 / 500 used · 488 left");
        await Expect(page.GetByTestId("intel-queue")).ToHaveTextAsync("2");
        await Expect(page.GetByTestId("intel-hit-rate")).ToHaveTextAsync("75.0 %");
        await browser.ShotAsync("intel");
        Assert.Empty(browser.Problems);
    }

    private static Task<int> HistogramTotalAsync(IPage page) =>
        page.GetByTestId("histogram-bar").EvaluateAllAsync<int>("bars => bars.reduce((n, b) => n + Number(b.dataset.count), 0)");

    [GeneratedRegex(@"^Too many attempts, wait \d+ s\.$")]
    private static partial Regex WaitRegex();
}
