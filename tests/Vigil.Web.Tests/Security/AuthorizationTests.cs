using System.Net;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Vigil.Web.Security;

namespace Vigil.Web.Tests.Security;

/// <summary>
/// Every endpoint is in <see cref="Endpoints"/> with the policy it must have; a new endpoint that is not in the table,
/// or has another policy, fails <see cref="EveryEndpoint_IsInTheTableWithItsPolicy"/>.
/// </summary>
public sealed class AuthorizationTests(ManagerApiFixture fixture) : IClassFixture<ManagerApiFixture>
{
    private const string Anonymous = "anonymous";

    private readonly ManagerApiFactory _factory = fixture.Factory;

    /// <summary>Method, route pattern, policy, a URL to call it with and a JSON body for POSTs.</summary>
    public static readonly TheoryData<string, string, string, string, string?> Endpoints = new()
    {
        { "POST", "/api/login", Anonymous, "/api/login", """{"username":"nobody","password":"x"}""" },
        { "POST", "/api/logout", Policies.Viewer, "/api/logout", null },
        { "GET", "/api/me", Policies.Viewer, "/api/me", null },
        { "GET", "/api/users", Policies.Admin, "/api/users", null },
        { "POST", "/api/users", Policies.Admin, "/api/users", """{"username":"table-user","password":"long enough 1","role":"viewer"}""" },
        { "POST", "/api/tokens", Policies.Admin, "/api/tokens", """{"name":"table","role":"viewer"}""" },
        { "GET", "/api/alerts", Policies.Viewer, "/api/alerts", null },
        { "GET", "/api/alerts/histogram", Policies.Viewer, "/api/alerts/histogram", null },
        { "GET", "/api/alerts/top/{field}", Policies.Viewer, "/api/alerts/top/rules", null },
        { "GET", "/api/alerts/stream", Policies.Viewer, "/api/alerts/stream", null },
        { "GET", "/api/alerts/{id}", Policies.Viewer, "/api/alerts/" + TestAlerts.FimId, null },
        { "GET", "/api/chain", Policies.Viewer, "/api/chain?agent=001&file=/root/eicar.com", null },
        { "GET", "/api/quarantine", Policies.Viewer, "/api/quarantine", null },
        { "POST", "/api/quarantine/{agentId}/{id:long}/restore", Policies.Admin, "/api/quarantine/009/7/restore", null },
        { "POST", "/api/quarantine/{agentId}/{id:long}/delete", Policies.Admin, "/api/quarantine/009/7/delete", null },
        { "GET", "/api/agents", Policies.Viewer, "/api/agents", null },
        { "DELETE", "/api/agents/{id}", Policies.Admin, "/api/agents/no-such-agent", null },
        { "GET", "/api/rules", Policies.Viewer, "/api/rules", null },
        { "POST", "/api/logtest", Policies.Viewer, "/api/logtest", """{"event":"8:syscheck:{}"}""" },
        { "GET", "/api/intel", Policies.Viewer, "/api/intel", null },
        { "GET", "/api/health", Anonymous, "/api/health", null },
        { "GET", "/api/status", Policies.Viewer, "/api/status", null },
        { "GET", "/api/deadletters", Policies.Viewer, "/api/deadletters", null },
        { "GET", "/api/deadletters/{id}", Policies.Viewer, "/api/deadletters/1", null },
        { "GET", "/metrics", Policies.Viewer, "/metrics", null },
        { "GET", "/api/engines", Policies.Viewer, "/api/engines", null },
        { "GET", "/openapi/{documentName}.json", Policies.Viewer, "/openapi/v1.json", null },
        { "GET", "/", Anonymous, "/", null },
        { "GET", "/login", Anonymous, "/login", null },
        { "GET", "/{**path}", Anonymous, "/index.html", null },
    };

    [Fact]
    public void EveryEndpoint_IsInTheTableWithItsPolicy()
    {
        using var client = _factory.Anonymous(); // starts the server, so the endpoints are mapped
        var actual = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in _factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"];
            var policy = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null
                ? Anonymous
                : string.Join('+', endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy ?? "(no policy)"));
            foreach (var method in methods.Where(m => m != HttpMethods.Head))
            {
                actual.Add($"{method} {Normalize(endpoint.RoutePattern.RawText)} {(policy.Length == 0 ? "(none)" : policy)}");
            }
        }

        var expected = new SortedSet<string>(Endpoints.Select(row => $"{row[0]} {row[1]} {row[2]}"), StringComparer.Ordinal);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Endpoint_AnswersByRole(string method, string pattern, string policy, string url, string? body)
    {
        _ = pattern;
        var anonymous = await StatusAsync(_factory.Anonymous(), method, url, body);
        var viewer = await StatusAsync(_factory.Viewer(), method, url, body);
        var admin = await StatusAsync(_factory.Admin(), method, url, body);

        if (policy == Anonymous)
        {
            if (url != "/api/login") // a wrong password is a 401 there, but not for want of a session
            {
                Assert.NotEqual(HttpStatusCode.Unauthorized, anonymous);
            }

            Assert.NotEqual(HttpStatusCode.Forbidden, anonymous);
            return;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous);
        Assert.Equal(policy == Policies.Admin ? HttpStatusCode.Forbidden : Success(viewer), viewer);
        Assert.Equal(Success(admin), admin);
    }

    [Fact]
    public async Task UnknownBearerToken_Is401()
    {
        using var client = _factory.Anonymous();
        client.DefaultRequestHeaders.Authorization = new("Bearer", "vgl_not-a-token");

        using var response = await client.GetAsync("/api/alerts");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private static HttpStatusCode Success(HttpStatusCode status) =>
        status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? HttpStatusCode.OK : status;

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string method, string url, string? body)
    {
        using (client)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            return response.StatusCode;
        }
    }

    private static string Normalize(string? pattern) => pattern is null or "" ? "/" : "/" + pattern.Trim('/');
}
