using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Vigil.Web.Tests.Api;

/// <summary>Quarantine, agents, rules, logtest, intelligence, health and metrics over the fake host operations.</summary>
public sealed class OperationsApiTests(ManagerApiFixture fixture) : IClassFixture<ManagerApiFixture>
{
    private readonly ManagerApiFactory _factory = fixture.Factory;

    [Theory]
    [InlineData("000", "restore", HttpStatusCode.OK, "done")]
    [InlineData("001", "restore", HttpStatusCode.Accepted, "sent")]
    [InlineData("001", "delete", HttpStatusCode.Accepted, "sent")]
    [InlineData("002", "restore", HttpStatusCode.Conflict, null)]
    [InlineData("003", "delete", HttpStatusCode.Conflict, null)]
    [InlineData("404", "restore", HttpStatusCode.NotFound, null)]
    public async Task QuarantineCommand_MapsTheOutcomeToItsStatus(string agent, string verb, HttpStatusCode expected, string? status)
    {
        using var client = _factory.Admin();

        using var response = await client.PostAsync($"/api/quarantine/{agent}/7/{verb}", null);

        Assert.Equal(expected, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (status is null)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(_factory.Operations.QuarantineResults.GetValueOrDefault(agent)?.Message ?? $"no quarantine record {agent}/7", body.GetProperty("detail").GetString());
        }
        else
        {
            Assert.Equal(status, body.GetProperty("status").GetString());
            Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        }

        var verbName = verb == "restore" ? "Restore" : "Delete";
        Assert.Contains($"{verbName} {agent}/7 by test-admin", _factory.Operations.Calls);
    }

    [Fact]
    public async Task Quarantine_ListsTheRecordsFromTheAlerts()
    {
        using var client = _factory.Viewer();

        var items = await client.GetFromJsonAsync<JsonElement>("/api/quarantine");
        var quarantined = await client.GetFromJsonAsync<JsonElement>("/api/quarantine?state=quarantined");
        var restored = await client.GetFromJsonAsync<JsonElement>("/api/quarantine?state=restored");

        var item = Assert.Single(items.EnumerateArray());
        Assert.Equal("001", item.GetProperty("agentId").GetString());
        Assert.Equal("web01", item.GetProperty("agentName").GetString());
        Assert.Equal(7, item.GetProperty("id").GetInt64());
        Assert.Equal(TestAlerts.Eicar, item.GetProperty("path").GetString());
        Assert.Equal(TestAlerts.EicarSha256, item.GetProperty("sha256").GetString());
        Assert.Equal("quarantined", item.GetProperty("state").GetString());
        Assert.Equal(TestAlerts.VirusTotalId, item.GetProperty("alertId").GetString());
        Assert.Equal("87105", item.GetProperty("ruleId").GetString());
        Assert.Single(quarantined.EnumerateArray());
        Assert.Empty(restored.EnumerateArray());
    }

    [Fact]
    public async Task Quarantine_UnknownState_Is400()
    {
        using var client = _factory.Viewer();

        using var response = await client.GetAsync("/api/quarantine?state=lost");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Chain_ShowsEachStageWithItsCause()
    {
        using var client = _factory.Viewer();

        var chain = await client.GetFromJsonAsync<JsonElement>("/api/chain?agent=001&file=" + Uri.EscapeDataString(TestAlerts.Eicar));

        Assert.Equal("001", chain.GetProperty("agentId").GetString());
        Assert.Equal(TestAlerts.Eicar, chain.GetProperty("file").GetString());
        var steps = chain.GetProperty("steps").EnumerateArray()
            .Select(s => (s.GetProperty("stage").GetString(), s.GetProperty("causedBy").GetString(), s.GetProperty("alert").GetProperty("id").GetString()))
            .ToArray();
        Assert.Equal(
        [
            ("fim", null, TestAlerts.FimId),
            ("verdict", TestAlerts.FimId, TestAlerts.VirusTotalId),
            ("response", TestAlerts.VirusTotalId, TestAlerts.ResponseId),
            ("quarantine", TestAlerts.VirusTotalId, TestAlerts.QuarantineId),
        ], steps);
        Assert.Equal(7, Assert.Single(chain.GetProperty("quarantine").EnumerateArray()).GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Chain_WithoutAgentOrFile_Is400()
    {
        using var client = _factory.Viewer();

        using var response = await client.GetAsync("/api/chain?agent=001");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Agents_ListAndRemove()
    {
        using var factory = new ManagerApiFactory();
        using var viewer = factory.Viewer();
        using var admin = factory.Admin();

        var agents = await viewer.GetFromJsonAsync<JsonElement>("/api/agents");
        using var removed = await admin.DeleteAsync("/api/agents/002");
        using var again = await admin.DeleteAsync("/api/agents/002");

        var web01 = agents.EnumerateArray().Single(a => a.GetProperty("id").GetString() == "001");
        Assert.Equal("web01", web01.GetProperty("name").GetString());
        Assert.Equal("10.0.0.11", web01.GetProperty("address").GetString());
        Assert.Equal("4.14.0", web01.GetProperty("version").GetString());
        Assert.Equal("active", web01.GetProperty("status").GetString());
        Assert.Equal(TestAlerts.Now.AddSeconds(-10), web01.GetProperty("lastKeepAlive").GetDateTimeOffset());
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Theory]
    [InlineData("", 3)]
    [InlineData("87105", 1)]
    [InlineData("active RESPONSE", 1)]
    [InlineData("nothing like it", 0)]
    public async Task Rules_FilterByIdOrDescription(string q, int expected)
    {
        using var client = _factory.Viewer();

        var rules = await client.GetFromJsonAsync<JsonElement>("/api/rules?q=" + Uri.EscapeDataString(q));

        Assert.Equal(expected, rules.GetArrayLength());
        if (expected > 0)
        {
            var rule = rules[0];
            Assert.True(rule.GetProperty("id").GetInt32() > 0);
            Assert.True(rule.TryGetProperty("level", out _));
            Assert.True(rule.TryGetProperty("description", out _));
            Assert.True(rule.TryGetProperty("groups", out _));
            Assert.True(rule.TryGetProperty("file", out _));
        }
    }

    [Fact]
    public async Task Logtest_ReturnsTheAlertAndTrace()
    {
        using var client = _factory.Viewer();

        using var matched = await client.PostAsJsonAsync("/api/logtest", new { @event = "8:syscheck:{\"path\":\"/root/x\"}" });
        using var unmatched = await client.PostAsJsonAsync("/api/logtest", new { @event = "1:/var/log/auth.log:hello" });
        using var empty = await client.PostAsJsonAsync("/api/logtest", new { @event = "" });
        using var malformed = await client.PostAsync("/api/logtest", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"));

        var first = await matched.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("554", first.GetProperty("alert").GetProperty("rule").GetProperty("id").GetString());
        Assert.Equal("rule 554 matched", first.GetProperty("trace").GetString());
        var second = await unmatched.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, second.GetProperty("alert").ValueKind);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Intel_ListsQuotaQueueAndCache()
    {
        using var client = _factory.Viewer();

        var intel = await client.GetFromJsonAsync<JsonElement>("/api/intel");

        var vt = Assert.Single(intel.EnumerateArray());
        Assert.Equal("virustotal", vt.GetProperty("name").GetString());
        Assert.True(vt.GetProperty("enabled").GetBoolean());
        Assert.Equal(4, vt.GetProperty("minuteQuota").GetInt32());
        Assert.Equal(3, vt.GetProperty("minuteUsed").GetInt32());
        Assert.Equal(500, vt.GetProperty("dayQuota").GetInt32());
        Assert.Equal(42, vt.GetProperty("dayUsed").GetInt32());
        Assert.Equal(5, vt.GetProperty("queueLength").GetInt32());
        Assert.Equal(30, vt.GetProperty("cacheHits").GetInt64());
        Assert.Equal(10, vt.GetProperty("cacheMisses").GetInt64());
        Assert.Equal(0.75, vt.GetProperty("cacheHitRate").GetDouble());
        Assert.Equal(TestAlerts.Now.AddSeconds(20), vt.GetProperty("waitingUntil").GetDateTimeOffset());
    }

    [Fact]
    public async Task Health_IsAnonymousAndCountsAlerts()
    {
        using var client = _factory.Anonymous();

        var health = await client.GetFromJsonAsync<JsonElement>("/api/health");

        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(_factory.Index.Count(), health.GetProperty("alerts").GetInt64());
    }

    [Fact]
    public async Task Metrics_PrometheusText()
    {
        using var client = _factory.Viewer();
        using (await client.GetAsync("/api/alerts/9999.9"))
        {
        }

        using var response = await client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("# TYPE vigil_alerts_indexed_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains($"\nvigil_alerts_indexed_total {_factory.Index.Count()}\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvigil_agents{status=\"active\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvigil_intel_queue_length{integration=\"virustotal\"} 5\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvigil_intel_quota_used{integration=\"virustotal\",window=\"minute\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvigil_intel_quota_used{integration=\"virustotal\",window=\"day\"} 42\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvigil_intel_cache_hits_total{integration=\"virustotal\"} 30\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvigil_intel_cache_misses_total{integration=\"virustotal\"} 10\n", text, StringComparison.Ordinal);
        Assert.Matches("\nvigil_http_requests_total\\{code=\"404\"\\} [1-9][0-9]*\n", text);
    }

    [Fact]
    public async Task Users_AdminCreatesAndLists_NewUserCanSignIn()
    {
        using var factory = new ManagerApiFactory();
        using var admin = factory.Admin();

        using var created = await admin.PostAsJsonAsync("/api/users", new { username = "olivia", password = "olivia's password", role = "viewer" });
        using var duplicate = await admin.PostAsJsonAsync("/api/users", new { username = "olivia", password = "another password", role = "viewer" });
        using var invalid = await admin.PostAsJsonAsync("/api/users", new { username = "x y", password = "short", role = "root" });
        var users = await admin.GetFromJsonAsync<JsonElement>("/api/users");
        var (viewer, _) = await factory.SignInAsync("olivia", "olivia's password");
        using (viewer)
        {
            using var forbidden = await viewer.GetAsync("/api/users");
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var detail = (await invalid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains("username", detail, StringComparison.Ordinal);
        Assert.Contains("password", detail, StringComparison.Ordinal);
        Assert.Contains("role", detail, StringComparison.Ordinal);
        Assert.Equal(["admin", "olivia"], users.EnumerateArray().Select(u => u.GetProperty("username").GetString()));
        Assert.DoesNotContain("password", users.GetRawText(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Tokens_ShownOnceAndWork()
    {
        using var admin = _factory.Admin();

        using var created = await admin.PostAsJsonAsync("/api/tokens", new { name = "grafana", role = "viewer" });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var token = body.GetProperty("token").GetString()!;
        using var client = _factory.Anonymous();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        using var metrics = await client.GetAsync("/metrics");
        using var users = await client.GetAsync("/api/users");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("grafana", body.GetProperty("name").GetString());
        Assert.Equal("viewer", body.GetProperty("role").GetString());
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, users.StatusCode);
        Assert.Contains(Vigil.Web.Security.UserStore.TokenHash(token), _factory.Users.TokenHashes());
    }
}
