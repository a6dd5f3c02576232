using Microsoft.Playwright;

namespace Vigil.Dashboard.Tests;

/// <summary>
/// Debian's Chromium (/usr/bin/chromium) driven by Playwright, headless; no `playwright install`. Without Chromium
/// every test fails and says how to install it: nothing is skipped.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("Chromium is not started");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"{ExecutablePath} is missing: the dashboard tests drive Debian's Chromium. "
                + "Install it with `sudo apt-get install -y --no-install-recommends chromium` (./test does this).");
        }

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            ],
        });
    }

    /// <summary>A fresh browser context (its own cookies) at laptop size, with one page.</summary>
    public async Task<BrowserSession> NewSessionAsync(Uri baseAddress, string name)
    {
        var context = await Browser.NewContextAsync(new()
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new() { Width = 1366, Height = 768 },
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        return new BrowserSession(context, page, name);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
    }
}

/// <summary>One user's browser: a page, its console errors, and numbered screenshots of each step.</summary>
public sealed class BrowserSession : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _problems = [];
    private readonly string _screenshots;
    private int _step;

    internal BrowserSession(IBrowserContext context, IPage page, string name)
    {
        _context = context;
        Page = page;
        _screenshots = Path.Combine(ScreenshotRoot, name);
        if (Directory.Exists(_screenshots))
        {
            Directory.Delete(_screenshots, recursive: true);
        }

        Directory.CreateDirectory(_screenshots);
        page.Console += (_, message) =>
        {
            // An HTTP error answer is logged as "Failed to load resource"; the tests check those answers themselves.
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
            {
                Add($"console: {message.Text}");
            }
        };
        page.PageError += (_, error) => Add($"page error: {error}");
    }

    /// <summary>artifacts/test-screenshots of the checkout (beside the build output).</summary>
    public static string ScreenshotRoot => Vigil.Tests.Common.RepositoryPaths.Get("artifacts", "test-screenshots");

    public IPage Page { get; }

    /// <summary>Console errors other than HTTP error answers, and uncaught exceptions (a CSP violation is a console error).</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_problems)
            {
                return [.. _problems];
            }
        }
    }

    /// <summary>Saves a full-page screenshot named after the step.</summary>
    public async Task ShotAsync(string step)
    {
        var file = Path.Combine(_screenshots, $"{++_step:00}-{step}.png");
        await Page.ScreenshotAsync(new() { Path = file, FullPage = true });
    }

    /// <summary>Logs in on /login and waits for the Threat Hunting page.</summary>
    public async Task LoginAsync(string user, string password)
    {
        await Page.GotoAsync("/login");
        await Page.GetByLabel("User name").FillAsync(user);
        await Page.GetByLabel("Password").FillAsync(password);
        await ShotAsync($"login-{user}");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Page.WaitForURLAsync("**/#/hunting**");
        await Assertions.Expect(Page.GetByTestId("user-name")).ToHaveTextAsync(user);
    }

    /// <summary>Types a query in the query bar and submits it with Enter.</summary>
    public async Task SearchAsync(string query)
    {
        var input = Page.GetByLabel("Query", new() { Exact = true });
        await input.FillAsync(query);
        await input.PressAsync("Enter");
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();

    private void Add(string problem)
    {
        lock (_problems)
        {
            _problems.Add(problem);
        }
    }
}
