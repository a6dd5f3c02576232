using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Vigil.Tests.Common;
using Vigil.Web.Index;
using Vigil.Web.Security;

namespace Vigil.Web.Tests;

/// <summary>
/// The web side on a test server, over a real alert index (in a temp directory) filled with <see cref="TestAlerts"/>,
/// a real user store, virtual time and <see cref="FakeManagerOperations"/>. Vigil.Web is a library, so the host
/// is built here (<see cref="CreateHostBuilder"/>); the factory's type argument only has to come from an assembly with
/// an entry point and a deps file, which the test assembly has and the library has not.
/// </summary>
internal sealed class ManagerApiFactory : WebApplicationFactory<ManagerApiFactory>
{
    public const string AdminPassword = "correct horse battery";
    public const string ViewerPassword = "viewer password 1";

    private readonly LoginLimits _limits;

    public ManagerApiFactory(LoginLimits? limits = null)
    {
        _limits = limits ?? new LoginLimits { PerAddress = 10_000, PerUser = 10_000 };
        Index = new AlertIndex(AlertIndex.PathUnder(Directory.Path), new AlertIndexOptions(), Time);
        Index.Add(TestAlerts.All());
    }

    public TempDirectory Directory { get; } = new("vigil-web");

    public FakeTimeProvider Time { get; } = new(TestAlerts.Now);

    public AlertIndex Index { get; }

    public AlertFeed Feed { get; } = new();

    public FakeManagerOperations Operations { get; } = new();

    public UserStore Users => Services.GetRequiredService<UserStore>();

    public RecordingLoggerProvider Logs { get; } = new();

    protected override IHostBuilder CreateHostBuilder() =>
        Host.CreateDefaultBuilder().ConfigureWebHostDefaults(web =>
        {
            web.UseEnvironment("Production");
            web.ConfigureLogging(logging => logging.AddProvider(Logs));
            web.ConfigureServices(services =>
            {
                services.AddSingleton<IAlertStore>(Index);
                services.AddSingleton(Feed);
                services.AddSingleton<IManagerOperations>(Operations);
                services.AddSingleton<TimeProvider>(Time);
                services.AddSingleton(_limits);
                services.AddVigilWeb(new WebOptions { DataDirectory = Directory.Path, Port = 0, InitialAdminPassword = AdminPassword });
            });
            web.Configure(app => app.UseVigilWeb());
        });

    // Runs after the factory picked a content root next to the solution (a folder that does not exist here).
    protected override void ConfigureWebHost(IWebHostBuilder builder) => builder.UseContentRoot(Directory.Path);

    /// <summary>A client with no credentials (cookies are kept, as a browser would).</summary>
    public HttpClient Anonymous() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    /// <summary>A client that sends a fresh API token with this role.</summary>
    public HttpClient WithToken(string role)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Users.CreateToken("test-" + role, role, "tests"));
        return client;
    }

    public HttpClient Admin() => WithToken(Roles.Admin);

    public HttpClient Viewer() => WithToken(Roles.Viewer);

    /// <summary>Signs in with a session cookie; returns the client (which keeps the cookies) and the CSRF token.</summary>
    public async Task<(HttpClient Client, string Csrf)> SignInAsync(string username = "admin", string password = AdminPassword)
    {
        var client = Anonymous();
        using var response = await client.PostAsJsonAsync("/api/login", new { username, password });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<SignInAnswer>();
        return (client, body!.CsrfToken!);
    }

    /// <summary>Adds a user directly to the store (ignores an existing one).</summary>
    public void AddUser(string username, string password, string role) => Users.TryCreate(username, password, role);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Index.Dispose();
            Directory.Dispose();
        }
    }

    internal sealed record SignInAnswer(string Username, string Role, string? CsrfToken);
}

/// <summary>One factory for the tests that do not change its state (xUnit class fixture).</summary>
public sealed class ManagerApiFixture : IDisposable
{
    internal ManagerApiFactory Factory { get; } = new();

    public void Dispose() => Factory.Dispose();
}
