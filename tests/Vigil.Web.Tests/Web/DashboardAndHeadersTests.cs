using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Vigil.Web.Tests.Web;

public sealed class DashboardAndHeadersTests(ManagerApiFixture fixture) : IClassFixture<ManagerApiFixture>
{
    private readonly ManagerApiFactory _factory = fixture.Factory;

    [Theory]
    [InlineData("/")]
    [InlineData("/login")]
    [InlineData("/api/health")]
    [InlineData("/api/alerts")]
    [InlineData("/no-such-file.js")]
    public async Task EveryAnswer_HasTheSecurityHeaders(string url)
    {
        using var client = _factory.Anonymous();

        using var response = await client.GetAsync(url);

        var csp = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/login")]
    [InlineData("/index.html")]
    public async Task Pages_AreAnonymousHtmlNotCached(string url)
    {
        using var client = _factory.Anonymous();

        using var response = await client.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoCache);
        Assert.Contains("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Page_SameETag_Is304()
    {
        using var client = _factory.Anonymous();
        using var first = await client.GetAsync("/");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        using var second = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Theory]
    [InlineData("/no-such-file.js")]
    [InlineData("/api/no-such-endpoint")]
    public async Task Unknown_Is404Problem(string url)
    {
        using var client = _factory.Anonymous();

        using var response = await client.GetAsync(url);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public void DashboardFiles_ServeEmbeddedFilesWithTheirContentType()
    {
        var files = new Vigil.Web.DashboardFiles(typeof(DashboardAndHeadersTests).Assembly, "Vigil.Manager.Tests.Web.");

        var script = files.Find("sample.js");

        Assert.NotNull(script);
        Assert.Equal("text/javascript; charset=utf-8", script.ContentType);
        Assert.Equal("console.log('dashboard');\n", System.Text.Encoding.UTF8.GetString(script.Content));
        Assert.NotNull(files.Find("index.html")); // a placeholder when the build has none
    }

    [Fact]
    public async Task OpenApi_ListsTheEndpoints()
    {
        using var client = _factory.Viewer();

        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        string[] expected =
        [
            "/api/login", "/api/logout", "/api/me", "/api/users", "/api/tokens", "/api/alerts", "/api/alerts/{id}",
            "/api/alerts/histogram", "/api/alerts/top/{field}", "/api/alerts/stream", "/api/chain", "/api/quarantine",
            "/api/quarantine/{agentId}/{id}/restore", "/api/quarantine/{agentId}/{id}/delete", "/api/agents", "/api/agents/{id}",
            "/api/rules", "/api/logtest", "/api/intel", "/api/health", "/metrics",
        ];
        Assert.Subset(paths, expected.ToHashSet());
        Assert.DoesNotContain("/", paths);
        Assert.True(document.GetProperty("paths").GetProperty("/api/alerts").TryGetProperty("get", out _));
    }
}
