using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Vigil.Web.Security;

namespace Vigil.Web.Tests.Security;

public sealed class LoginTests
{
    [Fact]
    public async Task Login_WrongPasswordOrUnknownUser_Is401WithTheSameAnswer()
    {
        using var factory = new ManagerApiFactory();
        using var client = factory.Anonymous();

        using var wrongPassword = await client.PostAsJsonAsync("/api/login", new { username = "admin", password = "not the password" });
        using var unknownUser = await client.PostAsJsonAsync("/api/login", new { username = "nobody", password = ManagerApiFactory.AdminPassword });

        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknownUser.StatusCode);
        var first = await wrongPassword.Content.ReadFromJsonAsync<JsonElement>();
        var second = await unknownUser.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("invalid user name or password", first.GetProperty("detail").GetString());
        Assert.Equal(first.GetProperty("detail").GetString(), second.GetProperty("detail").GetString());
        Assert.False(wrongPassword.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Login_IsAudited_WithoutThePassword()
    {
        using var factory = new ManagerApiFactory();
        using var client = factory.Anonymous();

        using (await client.PostAsJsonAsync("/api/login", new { username = "admin", password = "wrong secret" }))
        using (await client.PostAsJsonAsync("/api/login", new { username = "admin", password = ManagerApiFactory.AdminPassword }))
        {
        }

        var audit = factory.Logs.Lines.Where(l => l.Id is >= 7000 and < 7100).ToList();
        Assert.Contains(audit, l => l.Id == 7001 && l.Level == Microsoft.Extensions.Logging.LogLevel.Warning && l.Message.StartsWith("Failed sign-in as admin", StringComparison.Ordinal));
        Assert.Contains(audit, l => l.Id == 7000 && l.Message.StartsWith("User admin signed in", StringComparison.Ordinal));
        Assert.DoesNotContain(factory.Logs.Lines, l => l.Message.Contains("wrong secret", StringComparison.Ordinal)
            || l.Message.Contains(ManagerApiFactory.AdminPassword, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Login_FailedName_IsLoggedOnOneLine()
    {
        using var factory = new ManagerApiFactory();
        using var client = factory.Anonymous();

        using (await client.PostAsJsonAsync("/api/login", new { username = "eve\nUser admin signed in from 10.0.0.1", password = "x" }))
        {
        }

        var line = Assert.Single(factory.Logs.Lines, l => l.Id == 7001).Message;
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("Failed sign-in as eve?User admin", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_TooManyForOneName_Is429WithRetryAfter()
    {
        using var factory = new ManagerApiFactory(new LoginLimits { PerAddress = 100, PerUser = 3 });
        using var client = factory.Anonymous();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var attempt = await client.PostAsJsonAsync("/api/login", new { username = "admin", password = "guess " + i });
            statuses.Add(attempt.StatusCode);
        }

        using var right = await client.PostAsJsonAsync("/api/login", new { username = "admin", password = ManagerApiFactory.AdminPassword });
        using var otherName = await client.PostAsJsonAsync("/api/login", new { username = "someone", password = "guess" });

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode); // even the right password waits
        Assert.True(right.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.Unauthorized, otherName.StatusCode);
    }

    [Fact]
    public async Task Login_TooManyFromOneAddress_Is429()
    {
        using var factory = new ManagerApiFactory(new LoginLimits { PerAddress = 3, PerUser = 100 });
        using var client = factory.Anonymous();

        for (var i = 0; i < 3; i++)
        {
            using var attempt = await client.PostAsJsonAsync("/api/login", new { username = "user" + i, password = "guess" });
            Assert.Equal(HttpStatusCode.Unauthorized, attempt.StatusCode);
        }

        using var limited = await client.PostAsJsonAsync("/api/login", new { username = "user9", password = "guess" });

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
    }

    [Fact]
    public async Task Session_ExpiresAfterItsLifetime()
    {
        using var factory = new ManagerApiFactory();
        var (client, _) = await factory.SignInAsync();
        using (client)
        {
            using var before = await client.GetAsync("/api/me");
            factory.Time.Advance(SessionStore.Lifetime + TimeSpan.FromSeconds(1));
            using var after = await client.GetAsync("/api/me");

            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        }
    }
}
