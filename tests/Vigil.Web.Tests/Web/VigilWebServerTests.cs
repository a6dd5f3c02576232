using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Vigil.Tests.Common;
using Vigil.Web.Index;

namespace Vigil.Web.Tests.Web;

/// <summary>The server as the hosts start it: Kestrel on a free loopback port, HTTP or HTTPS.</summary>
public sealed partial class VigilWebServerTests : IDisposable
{
    private readonly TempDirectory _directory = new("vigil-webserver");
    private readonly FakeTimeProvider _time = new(TestAlerts.Now);
    private readonly AlertIndex _index;

    public VigilWebServerTests()
    {
        _index = new AlertIndex(AlertIndex.PathUnder(_directory.Path), new AlertIndexOptions(), _time);
        _index.Add(TestAlerts.All());
    }

    public void Dispose()
    {
        _index.Dispose();
        _directory.Dispose();
    }

    private Task<VigilWebServer> StartAsync(TextWriter output, string? certificate = null, string? key = null, string? password = null) =>
        VigilWebServer.StartAsync(
            new WebOptions { DataDirectory = _directory.Path, Port = 0, CertificatePath = certificate, CertificateKeyPath = key, InitialAdminPassword = password },
            _index, new AlertFeed(), new FakeManagerOperations(), NullLoggerFactory.Instance, _time, output, CancellationToken.None);

    [Fact]
    public async Task Start_FirstTime_PrintsTheUrlAndTheGeneratedPasswordOnce()
    {
        var first = new StringWriter();
        string password;
        await using (var server = await StartAsync(first))
        {
            Assert.Equal("http", server.BaseAddress.Scheme);
            Assert.Equal("127.0.0.1", server.BaseAddress.Host);
            Assert.NotEqual(0, server.BaseAddress.Port);
            Assert.Contains($"vigil: dashboard on {server.BaseAddress}", first.ToString(), StringComparison.Ordinal);
            password = GeneratedPassword().Match(first.ToString()).Groups[1].Value;
            Assert.True(password.Length >= 20);

            using var client = new HttpClient { BaseAddress = server.BaseAddress };
            using var login = await client.PostAsJsonAsync("/api/login", new { username = "admin", password });
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
            Assert.DoesNotContain(login.Headers.GetValues("Set-Cookie"), c => c.Contains("secure", StringComparison.OrdinalIgnoreCase));
        }

        var second = new StringWriter();
        await using (var server = await StartAsync(second))
        {
            Assert.Contains("vigil: dashboard on", second.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("password", second.ToString(), StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(password, second.ToString(), StringComparison.Ordinal);

            using var client = new HttpClient { BaseAddress = server.BaseAddress };
            using var login = await client.PostAsJsonAsync("/api/login", new { username = "admin", password });
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        }
    }

    [Fact]
    public async Task Start_WithAdminPassword_PrintsNoPassword()
    {
        var output = new StringWriter();

        await using var server = await StartAsync(output, password: "from the environment");

        Assert.DoesNotContain("password", output.ToString(), StringComparison.OrdinalIgnoreCase);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        var health = await client.GetFromJsonAsync<HealthAnswer>("/api/health");
        Assert.Equal(new HealthAnswer("ok", _index.Count()), health);
    }

    [Fact]
    public async Task Start_WithPemCertificate_ServesHttpsWithSecureCookies()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(_time.GetUtcNow().AddDays(-1), _time.GetUtcNow().AddDays(30));
        var certificatePath = _directory.WriteFile("tls/web.crt", certificate.ExportCertificatePem());
        var keyPath = _directory.WriteFile("tls/web.key", key.ExportPkcs8PrivateKeyPem());

        await using var server = await StartAsync(new StringWriter(), certificatePath, keyPath, "tls admin password");

        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint,
        };
        using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress };
        using var login = await client.PostAsJsonAsync("/api/login", new { username = "admin", password = "tls admin password" });

        Assert.Equal("https", server.BaseAddress.Scheme);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.All(login.Headers.GetValues("Set-Cookie"), c => Assert.Contains("secure", c, StringComparison.OrdinalIgnoreCase));
        Assert.True(login.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task Start_ListenAddressNotAnIp_IsAFatalVigilException()
    {
        var options = new WebOptions { DataDirectory = _directory.Path, Port = 0, ListenAddress = "dashboard.example" };

        var error = await Assert.ThrowsAsync<Vigil.Core.VigilException>(() => VigilWebServer.StartAsync(
            options, _index, new AlertFeed(), new FakeManagerOperations(), NullLoggerFactory.Instance, _time, new StringWriter(), CancellationToken.None));

        Assert.True(error.IsFatal);
        Assert.Contains("dashboard.example", error.Message, StringComparison.Ordinal);
    }

    private sealed record HealthAnswer(string Status, long Alerts);

    [GeneratedRegex("the password (\\S+)")]
    private static partial Regex GeneratedPassword();
}
