using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Vigil.Tests.Common;
using Vigil.Web.Index;
using static Microsoft.Playwright.Assertions;

namespace Vigil.Dashboard.Tests;

/// <summary>
/// The dashboard pages in Chromium against the manager's real web stack (<see cref="ManagerWebServer"/>: a fresh one
/// per test, over a real alert index): what each page shows, the live rows, CSRF headers, roles, and the error and
/// rate-limit messages. The same pages against the real `vigil run` are in <see cref="DashboardEndToEndTests"/>.
/// </summary>
public sealed partial class DashboardPagesTests(Chromium chromium) : IClassFixture<Chromium>, IAsyncLifetime
{
    private const string Query = "rule.id: is one of 553,100092,87105,100201,200303";
    private ManagerWebServer _server = null!;

    public async Task InitializeAsync() => _server = await ManagerWebServer.StartAsync();

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

        // docs/api.md: 10 attempts a minute per user name. Ten failed logins use them up; the browser's is the 11th.
        const string hammered = "hammered";
        using (var client = _server.Anonymous())
        {
            for (var i = 0; i < 10; i++)
            {
                using var failed = await client.PostAsJsonAsync("api/login", new { username = hammered, password = $"guess-{i}" });
                Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
            }
        }

        await page.GetByLabel("User name").FillAsync(hammered);
        await page.GetByLabel("Password").FillAsync("anything");
        var answer = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync(), r => r.Url.EndsWith("/api/login", StringComparison.Ordinal));
        Assert.Equal(429, answer.Status);
        var retryAfter = int.Parse(await answer.HeaderValueAsync("retry-after") ?? "missing", System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);
        var error = page.GetByTestId("error");
        await Expect(error).ToHaveTextAsync(WaitRegex());
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Log in" })).ToBeDisabledAsync();

        // The countdown runs: the number shown goes down from Retry-After.
        var first = SecondsLeft(await error.TextContentAsync());
        Assert.InRange(first, 1, retryAfter);
        if (first > 2)
        {
            await Expect(error).Not.ToHaveTextAsync($"Too many attempts, wait {first} s.", new() { Timeout = 3_000 });
            Assert.InRange(SecondsLeft(await error.TextContentAsync()), 1, first - 1);
        }

        // The admin's own name is not locked by another name's attempts.
        using (var client = _server.Anonymous())
        {
            using var admin = await client.PostAsJsonAsync("api/login", new { username = "admin", password = ManagerWebServer.AdminPassword });
            Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        }

        await browser.ShotAsync("rate-limited");
        Assert.Empty(browser.Problems);
    }

    // The page's script sends a visitor without a session to the login page once its session check answers 401: the
    // address is polled until it is there (a navigation event and load state the wait could miss are not needed).
    private static readonly Regex s_login = new("/login(\\?|$)");
    private static readonly Regex s_intel = new("/#/intel$");
    private static readonly PageAssertionsToHaveURLOptions s_redirect = new() { Timeout = 15_000 };

    [Fact]
    public async Task Dashboard_WithoutSession_GoesToLogin_AndBackAfterLogin()
    {
        await using var browser = await chromium.NewSessionAsync(_server.BaseAddress, nameof(Dashboard_WithoutSession_GoesToLogin_AndBackAfterLogin));
        var page = browser.Page;
        await page.GotoAsync("/#/intel");
        await Expect(page).ToHaveURLAsync(s_login, s_redirect);
        await page.GetByLabel("User name").FillAsync("viewer");
        await page.GetByLabel("Password").FillAsync(ManagerWebServer.ViewerPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(s_intel, s_redirect);
        await Expect(page).ToHaveTitleAsync("Intelligence — Vigil", new() { Timeout = 15_000 });
        await Expect(page.GetByTestId("user-role")).ToHaveTextAsync("viewer");

        // The logout is a POST with the session cookie: the server answers 204 only when it carries the CSRF token.
        var sessionCookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "vigil_session").Value;
        var logout = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync(), r => r.Url.EndsWith("/api/logout", StringComparison.Ordinal));
        Assert.Equal(204, logout.Status);
        await Expect(page).ToHaveURLAsync(s_login, s_redirect);
        using (var client = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = _server.BaseAddress })
        {
            using var me = new HttpRequestMessage(HttpMethod.Get, "api/me");
            me.Headers.Add("Cookie", $"vigil_session={sessionCookie}");
            using var answer = await client.SendAsync(me);
            Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode); // the session is gone on the server too
        }

        await page.GotoAsync("/#/hunting");
        await Expect(page).ToHaveURLAsync(s_login, s_redirect);
        await browser.ShotAsync("logged-out");
    }

    [Fact]
    public async Task Hunting_Search_LiveRows_Histogram_Detail_Chain()
    {
        var now = TimeProvider.System.GetUtcNow();
        _server.Add(
            AlertSamples.Fim(AlertSamples.NewId(now.AddHours(-2)), now.AddHours(-2), "/srv/w/old.txt"),
            AlertSamples.Fim(AlertSamples.NewId(now.AddHours(-1)), now.AddHours(-1), "/srv/w/other.txt", rule: 554),
            AlertSamples.Fim(AlertSamples.NewId(now.AddMinutes(-50)), now.AddMinutes(-50), "/srv/w/old.txt", rule: 553));

        await using var browser = await chromium.NewSessionAsync(_server.BaseAddress, nameof(Hunting_Search_LiveRows_Histogram_Detail_Chain));
        var page = browser.Page;
        await browser.LoginAsync("admin", ManagerWebServer.AdminPassword);
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

        // New alerts arrive over the stream, newest on top; the stream's filter (the query) keeps 554 out.
        var file = "/srv/w/dir with a long name/that goes on and on and on/eicar.com";
        var fim = Single(_server.Publish(AlertSamples.Fim(AlertSamples.NewId(now), now, file)));
        _server.Publish(AlertSamples.Fim(AlertSamples.NewId(now), now, "/srv/w/unrelated.txt", rule: 554));
        var verdict = Single(_server.Publish(AlertSamples.VirusTotal(AlertSamples.NewId(now), now, file, fim.Id)));
        var removal = Single(_server.Publish(AlertSamples.Removal(AlertSamples.NewId(now), now, file, verdict.Id)));
        _server.Publish(AlertSamples.Quarantine(AlertSamples.NewId(now), now, "quarantine", 1, file, verdict.Id));
        var rows = page.GetByTestId("alert-row");
        await Expect(rows).ToHaveCountAsync(6);
        Assert.Equal(["200303", "100092", "87105", "100201", "553", "100201"],
            await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.ruleId)"));
        await Expect(page.GetByTestId("total")).ToHaveTextAsync("6 alerts");
        Assert.Equal(6, await HistogramTotalAsync(page));
        var fileCell = rows.First.GetByTestId("alert-file");
        await Expect(fileCell).ToHaveAttributeAsync("title", file);
        Assert.True(await fileCell.EvaluateAsync<bool>("e => e.scrollWidth > e.clientWidth"), "a long path is cut with an ellipsis");
        await browser.ShotAsync("live-rows");

        var fimRow = page.Locator($"[data-testid=alert-row][data-alert-id='{fim.Id}']");
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
        Assert.Equal(["100201", "87105", "100092", "200303"], await steps.EvaluateAllAsync<string[]>("s => s.map(e => e.dataset.ruleId)"));
        await Expect(steps.Nth(1).GetByTestId("caused-by")).ToHaveAttributeAsync("data-caused-by", fim.Id);
        await Expect(steps.Nth(2).GetByTestId("caused-by")).ToHaveAttributeAsync("data-caused-by", verdict.Id);
        await Expect(steps.Nth(3).GetByTestId("caused-by")).ToHaveAttributeAsync("data-caused-by", verdict.Id);
        Assert.Equal(removal.Id, await steps.Nth(2).GetAttributeAsync("data-alert-id"));
        var record = page.GetByTestId("chain-quarantine-row");
        await Expect(record).ToHaveCountAsync(1);
        await Expect(record).ToHaveAttributeAsync("data-state", "quarantined");
        await Expect(page.GetByTestId("live-indicator")).ToHaveAttributeAsync("data-state", "on");

        // The chain refreshes when an alert for its file arrives: a second verdict (a rescan) joins the verdicts.
        var rescan = Single(_server.Publish(AlertSamples.VirusTotal(AlertSamples.NewId(now), now, file, fim.Id)));
        await Expect(steps).ToHaveCountAsync(5);
        Assert.Equal(["fim", "verdict", "verdict", "response", "quarantine"], await steps.EvaluateAllAsync<string[]>("s => s.map(e => e.dataset.stage)"));
        Assert.Equal([fim.Id, verdict.Id, rescan.Id, removal.Id], (await steps.EvaluateAllAsync<string[]>("s => s.map(e => e.dataset.alertId)")).Take(4));

        // A denied execution of the file (on-access prevention) is a stage of its own, after the verdicts.
        var denied = Single(_server.Publish(AlertSamples.Prevention(AlertSamples.NewId(now), now, file, rule: 200801)));
        await Expect(steps).ToHaveCountAsync(6);
        Assert.Equal(["fim", "verdict", "verdict", "prevention", "response", "quarantine"], await steps.EvaluateAllAsync<string[]>("s => s.map(e => e.dataset.stage)"));
        await Expect(steps.Nth(3)).ToHaveAttributeAsync("data-alert-id", denied.Id);
        await Expect(steps.Nth(3)).ToHaveAttributeAsync("data-rule-id", "200801");
        await Expect(steps.Nth(3)).ToContainTextAsync("Prevention");
        await browser.ShotAsync("chain");
        Assert.Empty(browser.Problems);
    }

    [Fact]
    public async Task Hunting_MalformedQuery_ShowsProblemDetail()
    {
        await using var browser = await chromium.NewSessionAsync(_server.BaseAddress, nameof(Hunting_MalformedQuery_ShowsProblemDetail));
        var page = browser.Page;
        await browser.LoginAsync("viewer", ManagerWebServer.ViewerPassword);
        await page.GetByLabel("Query", new() { Exact = true }).FillAsync("rule.id: (553 or 100092");
        var answer = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync(),
            // This search's answer, not that of the page's first load (which can still be on its way).
            r => r.Url.Contains("/api/alerts?", StringComparison.Ordinal)
                && Uri.UnescapeDataString(r.Url.Replace('+', ' ')).Contains("(553 or 100092", StringComparison.Ordinal));
        Assert.Equal(400, answer.Status);
        var problem = (await answer.JsonAsync())!.Value;
        Assert.Equal(23, problem.GetProperty("position").GetInt32()); // zero-based: the end of the query, where ')' is missing
        var error = page.GetByRole(AriaRole.Alert);
        await Expect(error).ToHaveTextAsync("'or' or ')' was expected at position 24 in the list for rule.id");
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
        await browser.LoginAsync("viewer", ManagerWebServer.ViewerPassword);
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
        // Two files the manager's own agent quarantined, and one on agent 001 (its commands are sent, not done here).
        var now = TimeProvider.System.GetUtcNow().AddMinutes(-5);
        _server.Add(
            AlertSamples.Quarantine(AlertSamples.NewId(now), now, "quarantine", 1, "/srv/w/eicar.com", "1.1", "000", "vigil"),
            AlertSamples.Quarantine(AlertSamples.NewId(now), now, "quarantine", 2, "/srv/w/other.com", "1.2", "000", "vigil"),
            AlertSamples.Quarantine(AlertSamples.NewId(now), now, "quarantine", 7, "/srv/web/drop.php", "1.3", "001", "web-01"));

        await using (var viewer = await chromium.NewSessionAsync(_server.BaseAddress, nameof(Quarantine_ViewerCannotRestore_AdminRestoresAndDeletes) + "-viewer"))
        {
            await viewer.LoginAsync("viewer", ManagerWebServer.ViewerPassword);
            await viewer.Page.GotoAsync("/#/quarantine");
            await Expect(viewer.Page).ToHaveTitleAsync("Quarantine — Vigil");
            await Expect(viewer.Page.GetByTestId("quarantine-row")).ToHaveCountAsync(3);
            var row = viewer.Page.Locator("[data-testid=quarantine-row][data-path='/srv/w/eicar.com']");
            await Expect(row).ToHaveAttributeAsync("data-state", "quarantined");
            await Expect(row).ToHaveAttributeAsync("data-id", "1");
            await Expect(row.GetByTestId("restore-button")).ToBeDisabledAsync();
            await Expect(row.GetByTestId("delete-button")).ToBeDisabledAsync();
            var status = await viewer.Page.EvaluateAsync<int>("""
                async () => (await fetch('/api/quarantine/000/1/restore', { method: 'POST',
                  headers: { 'X-CSRF-Token': decodeURIComponent(document.cookie.match(/vigil_csrf=([^;]+)/)[1]) } })).status
                """);
            Assert.Equal(403, status);
            await viewer.ShotAsync("viewer");
        }

        Assert.Empty(_server.Operations.Calls); // the 403 came before the host was asked
        Assert.Equal(QuarantineStates.Quarantined, _server.Index.QuarantineRecord("000", 1)!.State);

        await using var admin = await chromium.NewSessionAsync(_server.BaseAddress, nameof(Quarantine_ViewerCannotRestore_AdminRestoresAndDeletes) + "-admin");
        var page = admin.Page;
        await admin.LoginAsync("admin", ManagerWebServer.AdminPassword);
        await page.GetByRole(AriaRole.Link, new() { Name = "Quarantine" }).ClickAsync();
        var eicar = page.Locator("[data-testid=quarantine-row][data-path='/srv/w/eicar.com']");
        var restored = await page.RunAndWaitForResponseAsync(
            () => eicar.GetByRole(AriaRole.Button, new() { Name = "Restore" }).ClickAsync(), r => r.Url.EndsWith("/api/quarantine/000/1/restore", StringComparison.Ordinal));
        Assert.Equal(200, restored.Status); // with the session cookie, so the page sent the CSRF token
        await Expect(page.GetByTestId("message")).ToHaveTextAsync("restored to /srv/w/eicar.com");
        await Expect(eicar).ToHaveAttributeAsync("data-state", "restored");
        await Expect(eicar.GetByTestId("restore-button")).ToHaveCountAsync(0);
        var record = _server.Index.QuarantineRecord("000", 1)!;
        Assert.Equal(QuarantineStates.Restored, record.State);
        Assert.Equal("/srv/w/eicar.com", record.RestoredTo);
        Assert.Equal(["restore 000/1 by admin"], _server.Operations.Calls);
        await admin.ShotAsync("restored");

        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        var other = page.Locator("[data-testid=quarantine-row][data-path='/srv/w/other.com']");
        await other.GetByTestId("delete-button").ClickAsync();
        await Expect(page.GetByTestId("message")).ToHaveTextAsync("deleted for good");
        await Expect(other).ToHaveAttributeAsync("data-state", "deleted");
        Assert.Equal(QuarantineStates.Deleted, _server.Index.QuarantineRecord("000", 2)!.State);
        await admin.ShotAsync("deleted");

        // Agent 001's file: the command is sent (202); the record stays quarantined until the agent reports.
        var drop = page.Locator("[data-testid=quarantine-row][data-path='/srv/web/drop.php']");
        var sent = await page.RunAndWaitForResponseAsync(
            () => drop.GetByTestId("restore-button").ClickAsync(), r => r.Url.EndsWith("/api/quarantine/001/7/restore", StringComparison.Ordinal));
        Assert.Equal(202, sent.Status);
        await Expect(page.GetByTestId("message")).ToHaveTextAsync("restore of quarantine record 7 sent to agent 001");
        await Expect(drop).ToHaveAttributeAsync("data-state", "quarantined");
        Assert.Equal(["restore 000/1 by admin", "delete 000/2 by admin", "restore 001/7 by admin"], _server.Operations.Calls);
        Assert.Empty(admin.Problems);
    }

    [Fact]
    public async Task Chain_EngineVerdicts_ShowEngineMatchAndVersion()
    {
        var now = TimeProvider.System.GetUtcNow();
        const string file = "/srv/www/engine-chain/shell.php";
        var fim = Single(_server.Add(AlertSamples.Fim(AlertSamples.NewId(now), now, file)));
        _server.Add(
            EngineAlertSamples.Yara(AlertSamples.NewId(now), now.AddSeconds(1), file, fim.Id, "Webshell_Eval", new string('c', 64)),
            EngineAlertSamples.ClamAv(AlertSamples.NewId(now), now.AddSeconds(2), file, fim.Id, "Php.Webshell.UNOFFICIAL", "ClamAV 1.4.6 db:abc"));

        await using var browser = await chromium.NewSessionAsync(_server.BaseAddress, nameof(Chain_EngineVerdicts_ShowEngineMatchAndVersion));
        var page = browser.Page;
        await browser.LoginAsync("admin", ManagerWebServer.AdminPassword);
        await page.GotoAsync("/#/chain?agent=000&file=" + Uri.EscapeDataString(file));

        var engines = page.GetByTestId("chain-engine");
        await Expect(engines).ToHaveCountAsync(2);
        Assert.Equal(["YARA", "ClamAV"], await page.GetByTestId("chain-engine-name").AllTextContentsAsync());
        Assert.Equal(["Webshell_Eval", "Php.Webshell.UNOFFICIAL"], await page.GetByTestId("chain-engine-match").AllTextContentsAsync());
        Assert.Equal(["version cccccccccccc", "version ClamAV 1.4.6 db:abc"], await page.GetByTestId("chain-engine-version").AllTextContentsAsync());
        await browser.ShotAsync("chain-engines");
        Assert.Empty(browser.Problems);
    }

    [Fact]
    public async Task AgentsAndIntelligence_ShowTheirTables()
    {
        await using var browser = await chromium.NewSessionAsync(_server.BaseAddress, nameof(AgentsAndIntelligence_ShowTheirTables));
        var page = browser.Page;
        await browser.LoginAsync("admin", ManagerWebServer.AdminPassword);
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
        await Expect(page.GetByTestId("engine-row")).ToHaveCountAsync(3);
        var yara = page.Locator("[data-testid=engine-row][data-key=custom-vigil-yara][data-agent='000']");
        await Expect(yara.GetByTestId("engine-host")).ToHaveTextAsync("this host");
        await Expect(yara.GetByTestId("engine-version")).ToHaveTextAsync("aaaaaaaaaaaa");
        await Expect(yara.GetByTestId("engine-state")).ToHaveTextAsync("up");
        await Expect(yara.GetByTestId("engine-retro")).ToHaveTextAsync("120/500, 1 found");
        var clam = page.Locator("[data-testid=engine-row][data-key=custom-vigil-clamav][data-agent='000']");
        await Expect(clam.GetByTestId("engine-state")).ToHaveTextAsync("down");
        await Expect(clam.GetByTestId("engine-retro")).ToHaveTextAsync("not started");
        await Expect(clam.GetByTestId("engine-error")).ToHaveTextAsync("clamd does not answer at /run/clamav/clamd.ctl");

        // An agent's engine, as it reported it: its host, its own version, a rule file that does not compile (its
        // previous rules stay in force) and its finished retro-scan.
        var agentYara = page.Locator("[data-testid=engine-row][data-key=custom-vigil-yara][data-agent='001']");
        await Expect(agentYara.GetByTestId("engine-host")).ToHaveTextAsync("web-01 (001)");
        await Expect(agentYara.GetByTestId("engine-version")).ToHaveTextAsync("bbbbbbbbbbbb");
        await Expect(agentYara.GetByTestId("engine-state")).ToHaveTextAsync("reload_error");
        await Expect(agentYara.GetByTestId("engine-error")).ToHaveTextAsync("/etc/vigil/yara/bad.yar:3: syntax error");
        await Expect(agentYara.GetByTestId("engine-retro")).ToHaveTextAsync("done 30/30, 0 found");
        await browser.ShotAsync("intel");
        Assert.Empty(browser.Problems);
    }

    private static IndexedAlert Single(IReadOnlyList<IndexedAlert> added) => Assert.Single(added);

    private static int SecondsLeft(string? text) =>
        int.Parse(WaitRegex().Match(text ?? "").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    private static Task<int> HistogramTotalAsync(IPage page) =>
        page.GetByTestId("histogram-bar").EvaluateAllAsync<int>("bars => bars.reduce((n, b) => n + Number(b.dataset.count), 0)");

    [GeneratedRegex(@"^Too many attempts, wait (\d+) s\.$")]
    private static partial Regex WaitRegex();
}
