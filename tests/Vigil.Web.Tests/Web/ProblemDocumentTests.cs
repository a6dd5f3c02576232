using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Vigil.Core.Diagnostics;
using Vigil.Tests.Common;
using Vigil.Web.Index;

namespace Vigil.Web.Tests.Web;

/// <summary>Every 4xx of the API is a problem document with a detail, whichever layer refused the request (binding, routing, an endpoint).</summary>
public sealed class ProblemDocumentTests : IAsyncLifetime
{
    private const string Password = "problem documents password";
    private readonly TempDirectory _directory = new("vigil-problems");
    private readonly FakeTimeProvider _time = new(TestAlerts.Now);
    private readonly FakeManagerOperations _operations = new();
    private AlertIndex? _index;
    private VigilWebServer? _server;
    private HttpClient? _client;

    public async Task InitializeAsync()
    {
        _index = new AlertIndex(AlertIndex.PathUnder(_directory.Path), new AlertIndexOptions(), _time);
        _index.Add(TestAlerts.All());
        _server = await VigilWebServer.StartAsync(
            new WebOptions { DataDirectory = _directory.Path, Port = 0, InitialAdminPassword = Password },
            _index, new AlertFeed(), _operations, NullLoggerFactory.Instance, _time, TextWriter.Null, CancellationToken.None);
        _client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = _server.BaseAddress };
        using var login = await _client.PostAsJsonAsync("/api/login", new { username = "admin", password = Password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _index?.Dispose();
        _directory.Dispose();
    }

    [Theory]
    [InlineData("/api/alerts?offset=99999999999999999999", "offset")]
    [InlineData("/api/alerts?limit=abc", "limit")]
    [InlineData("/api/deadletters/x", "x")]
    [InlineData("/api/no-such-api", "/api/no-such-api")]
    public async Task Get_RefusedRequest_IsAProblemDocumentWithADetail(string path, string expectedInDetail)
    {
        using var response = await _client!.GetAsync(path);

        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)response.StatusCode, problem.GetProperty("status").GetInt32());
        var detail = problem.GetProperty("detail").GetString();
        Assert.False(string.IsNullOrWhiteSpace(detail));
        Assert.Contains(expectedInDetail, detail, StringComparison.Ordinal);
    }

    // Kestrel refuses these before any middleware runs; before the fix each was an empty 400 (431) with no body at all.
    // Sent over a raw socket: HttpClient refuses to send some of them.
    [Theory]
    [InlineData("GET /api/alerts/%00 HTTP/1.1\r\nHost: localhost\r\n\r\n", 400)]
    [InlineData("GET /api/alerts/a%00b?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n", 400)]
    [InlineData("GET /api/alerts HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n", 400)]
    [InlineData("GET /api/alerts HTTP/1.1\r\n\r\n", 400)]
    public async Task Get_RequestKestrelRefuses_IsAProblemDocumentWithADetail(string request, int status)
    {
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(_server!.BaseAddress.Host, _server.BaseAddress.Port);
        var stream = socket.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        var response = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30)); // Connection: close

        var split = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(split > 0, response);
        var head = response[..split];
        Assert.StartsWith($"HTTP/1.1 {status} ", head, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", head, StringComparison.Ordinal);
        var problem = JsonDocument.Parse(response[(split + 4)..]).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task Get_PathWithNul_HttpClientGetsAProblemDocument()
    {
        using var response = await _client!.GetAsync("/api/alerts/%00");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("%00", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_AStageStalled_Is503NamingTheStage()
    {
        using (var ok = await _client!.GetAsync("/api/health"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("ok", (await ok.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        }

        _operations.StageStatuses.Add(new StageStatus("analysis", "stalled", 10, 0, "no progress for 61 s with work waiting"));
        using var degraded = await _client.GetAsync("/api/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, degraded.StatusCode);
        var body = await degraded.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("degraded", body.GetProperty("status").GetString());
        var stage = Assert.Single(body.GetProperty("stages").EnumerateArray());
        Assert.Equal(("analysis", "stalled"), (stage.GetProperty("name").GetString(), stage.GetProperty("status").GetString()));
    }
}
