using System.Net;
using System.Net.Http.Json;

namespace Vigil.Web.Tests.Security;

public sealed class CsrfTests(ManagerApiFixture fixture) : IClassFixture<ManagerApiFixture>
{
    private readonly ManagerApiFactory _factory = fixture.Factory;

    private static HttpRequestMessage Logtest(string? csrf)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/logtest") { Content = JsonContent.Create(new { @event = "8:syscheck:{}" }) };
        if (csrf is not null)
        {
            request.Headers.Add("X-CSRF-Token", csrf);
        }

        return request;
    }

    [Fact]
    public async Task SessionPost_WithoutHeader_Is403()
    {
        var (client, _) = await _factory.SignInAsync();
        using (client)
        {
            using var request = Logtest(null);
            using var response = await client.SendAsync(request);

            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("X-CSRF-Token", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SessionPost_WithAnotherSessionsToken_Is403()
    {
        var (client, _) = await _factory.SignInAsync();
        var (other, otherCsrf) = await _factory.SignInAsync();
        using (client)
        using (other)
        {
            using var request = Logtest(otherCsrf);
            using var response = await client.SendAsync(request);

            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
    }

    [Fact]
    public async Task SessionPost_WithWrongToken_Is403()
    {
        var (client, csrf) = await _factory.SignInAsync();
        using (client)
        {
            using var request = Logtest(csrf + "x");
            using var response = await client.SendAsync(request);

            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
    }

    [Fact]
    public async Task SessionPost_WithItsToken_Succeeds()
    {
        var (client, csrf) = await _factory.SignInAsync();
        using (client)
        {
            using var request = Logtest(csrf);
            using var response = await client.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task SessionDelete_WithoutHeader_Is403AndDoesNothing()
    {
        var (client, _) = await _factory.SignInAsync();
        using (client)
        {
            using var response = await client.DeleteAsync("/api/agents/002");

            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.DoesNotContain("remove 002", _factory.Operations.Calls);
        }
    }

    [Fact]
    public async Task SessionGet_NeedsNoHeader()
    {
        var (client, csrf) = await _factory.SignInAsync();
        using (client)
        {
            var me = await client.GetFromJsonAsync<ManagerApiFactory.SignInAnswer>("/api/me");

            Assert.Equal("admin", me!.Username);
            Assert.Equal("admin", me.Role);
            Assert.Equal(csrf, me.CsrfToken);
        }
    }

    [Fact]
    public async Task BearerPost_NeedsNoHeader()
    {
        using var client = _factory.Viewer();
        using var request = Logtest(null);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Login_SetsHttpOnlyStrictSessionCookieAndReadableCsrfCookie()
    {
        using var client = _factory.Anonymous();

        using var response = await client.PostAsJsonAsync("/api/login", new { username = "admin", password = ManagerApiFactory.AdminPassword });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cookies = response.Headers.GetValues("Set-Cookie").ToList();
        var session = Assert.Single(cookies, c => c.StartsWith("vigil_session=", StringComparison.Ordinal));
        Assert.Contains("httponly", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", session, StringComparison.OrdinalIgnoreCase);
        var csrf = Assert.Single(cookies, c => c.StartsWith("vigil_csrf=", StringComparison.Ordinal));
        Assert.DoesNotContain("httponly", csrf, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", csrf, StringComparison.OrdinalIgnoreCase);
        var body = await response.Content.ReadFromJsonAsync<ManagerApiFactory.SignInAnswer>();
        Assert.Equal("vigil_csrf=" + body!.CsrfToken, csrf.Split(';')[0]);
    }

    [Fact]
    public async Task Login_AgainWithASession_EndsThePreviousSession()
    {
        var (client, _) = await _factory.SignInAsync();
        using (client)
        {
            using var me = await client.GetAsync("/api/me");
            Assert.Equal(HttpStatusCode.OK, me.StatusCode);
            var oldCookie = me.RequestMessage!.Headers.GetValues("Cookie").Single();

            using var again = await client.PostAsJsonAsync("/api/login", new { username = "admin", password = ManagerApiFactory.AdminPassword });
            using var anonymous = _factory.Anonymous();
            using var replay = new HttpRequestMessage(HttpMethod.Get, "/api/me");
            replay.Headers.Add("Cookie", oldCookie);
            using var replayed = await anonymous.SendAsync(replay);

            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, replayed.StatusCode);
        }
    }

    [Fact]
    public async Task Logout_EndsTheSession()
    {
        var (client, csrf) = await _factory.SignInAsync();
        using (client)
        {
            using var logout = new HttpRequestMessage(HttpMethod.Post, "/api/logout");
            logout.Headers.Add("X-CSRF-Token", csrf);
            using var loggedOut = await client.SendAsync(logout);
            Assert.Equal(HttpStatusCode.NoContent, loggedOut.StatusCode);

            using var after = await client.GetAsync("/api/me");

            Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        }
    }
}
