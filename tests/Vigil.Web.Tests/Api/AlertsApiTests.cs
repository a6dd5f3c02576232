using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Vigil.Web.Tests.Api;

public sealed class AlertsApiTests(ManagerApiFixture fixture) : IClassFixture<ManagerApiFixture>
{
    private readonly ManagerApiFactory _factory = fixture.Factory;

    private async Task<JsonElement> SearchAsync(string query, string extra = "")
    {
        using var client = _factory.Viewer();
        using var response = await client.GetAsync("/api/alerts?q=" + Uri.EscapeDataString(query) + extra);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string[] Ids(JsonElement page) => [.. page.GetProperty("alerts").EnumerateArray().Select(a => a.GetProperty("id").GetString()!)];

    [Fact]
    public async Task Search_SeedFilterVerbatim_FindsTheFourRules()
    {
        var page = await SearchAsync("rule.id: is one of 553,100092,87105,100201");

        Assert.Equal(4, page.GetProperty("total").GetInt64());
        Assert.Equal([TestAlerts.DeletedId, TestAlerts.PasswdId, TestAlerts.ResponseId, TestAlerts.VirusTotalId], Ids(page)); // newest first
    }

    [Fact]
    public async Task Search_NoQuery_DefaultsToTheLast24Hours()
    {
        var page = await SearchAsync("");

        Assert.Equal(8, page.GetProperty("total").GetInt64());
        Assert.DoesNotContain(TestAlerts.OldId, Ids(page));
    }

    [Theory]
    [InlineData("rule.id: 554 AND agent.name: web01", new[] { TestAlerts.FimId })]
    [InlineData("rule.id: 553 OR rule.id: 5501", new[] { TestAlerts.PamId, TestAlerts.DeletedId })]
    [InlineData("rule.groups: syscheck AND NOT agent.id: 001", new[] { TestAlerts.DeletedId })]
    [InlineData("(rule.id: 554 or rule.id: 553) and not syscheck.path: /tmp/*", new[] { TestAlerts.FimId })]
    [InlineData("rule.id: (553 or 100092)", new[] { TestAlerts.DeletedId, TestAlerts.ResponseId })]
    [InlineData("syscheck.path: /etc/pass??", new[] { TestAlerts.PasswdId })]
    [InlineData("rule.level >= 12", new[] { TestAlerts.ResponseId, TestAlerts.VirusTotalId })]
    [InlineData("data.virustotal.source.file: \"/root/eicar.com\"", new[] { TestAlerts.VirusTotalId })]
    [InlineData("data.virustotal.positives >= 60", new[] { TestAlerts.VirusTotalId })]
    [InlineData("\"session opened\"", new[] { TestAlerts.PamId })]
    [InlineData("eicar rule.groups: vigil_quarantine", new[] { TestAlerts.QuarantineId })]
    [InlineData("data.parameters.alert.id: *", new[] { TestAlerts.RemoveThreatId, TestAlerts.ResponseId })]
    public async Task Search_QueryLanguage_FindsTheMatchingAlerts(string query, string[] expected)
    {
        var page = await SearchAsync(query);

        Assert.Equal(expected, Ids(page));
        Assert.Equal(expected.Length, page.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Search_FreeText_MatchesAnywhereInTheAlert()
    {
        var page = await SearchAsync("eicar");

        Assert.Equal([TestAlerts.QuarantineId, TestAlerts.ResponseId, TestAlerts.VirusTotalId, TestAlerts.FimId], Ids(page));
    }

    [Theory]
    [InlineData("(rule.id: 554", "')'")]
    [InlineData("rule.id: 554)", "unbalanced ')'")]
    [InlineData("rule.id: abc", "rule.id is a number")]
    [InlineData("\"removed threat", "quote")]
    [InlineData("rule.id:", "")]
    [InlineData("rule.id: 554 AND", "")]
    public async Task Search_MalformedQuery_Is400ProblemSayingWhatIsWrong(string query, string expectedInDetail)
    {
        using var client = _factory.Viewer();

        using var response = await client.GetAsync("/api/alerts?q=" + Uri.EscapeDataString(query));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains(expectedInDetail, detail, StringComparison.OrdinalIgnoreCase);
        Assert.True(problem.GetProperty("position").GetInt32() >= 0);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData("/api/alerts/histogram?q=(rule.id:1")]
    [InlineData("/api/alerts/top/rules?q=rule.id:%20abc")]
    [InlineData("/api/alerts/stream?q=rule.id:%20abc")]
    public async Task OtherAlertEndpoints_MalformedQuery_Are400(string url)
    {
        using var client = _factory.Viewer();

        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("from=yesterday")]
    [InlineData("to=now-3x")]
    [InlineData("from=now&to=now-1h")]
    [InlineData("limit=1001")]
    [InlineData("limit=0")]
    [InlineData("offset=-1")]
    public async Task Search_BadParameters_Are400Problems(string parameters)
    {
        using var client = _factory.Viewer();

        using var response = await client.GetAsync("/api/alerts?" + parameters);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
    }

    [Theory]
    [InlineData("from=now-7d", 9)]
    [InlineData("from=now-25m", 1)]
    [InlineData("from=2026-11-28T09:31:00Z&to=2026-11-28T09:45:00Z", 1)]
    [InlineData("from=now-3d&to=now-1d", 1)]
    public async Task Search_TimeRange_AbsoluteOrRelative(string parameters, int expected)
    {
        var page = await SearchAsync("", "&" + parameters);

        Assert.Equal(expected, page.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Search_LimitAndOffset_PageNewestFirst()
    {
        var first = await SearchAsync("", "&limit=3");
        var second = await SearchAsync("", "&limit=3&offset=3");

        Assert.Equal(3, Ids(first).Length);
        Assert.Equal(8, second.GetProperty("total").GetInt64());
        Assert.Empty(Ids(first).Intersect(Ids(second)));
    }

    [Fact]
    public async Task Search_AlertItem_HasTheColumnsAndTheWholeDocument()
    {
        var page = await SearchAsync("id: " + TestAlerts.VirusTotalId);

        var item = page.GetProperty("alerts")[0];
        Assert.True(item.GetProperty("seq").GetInt64() > 0);
        Assert.Equal("001", item.GetProperty("agent").GetProperty("id").GetString());
        Assert.Equal("web01", item.GetProperty("agent").GetProperty("name").GetString());
        Assert.Equal(87105, item.GetProperty("rule").GetProperty("id").GetInt32());
        Assert.Equal(12, item.GetProperty("rule").GetProperty("level").GetInt32());
        Assert.Equal("virustotal", item.GetProperty("rule").GetProperty("groups")[0].GetString());
        Assert.Equal(TestAlerts.Eicar, item.GetProperty("file").GetString());
        Assert.Equal("66", item.GetProperty("alert").GetProperty("data").GetProperty("virustotal").GetProperty("positives").GetString());
        Assert.Equal(TestAlerts.Now.AddHours(-1).AddSeconds(5), item.GetProperty("timestamp").GetDateTimeOffset());
    }

    [Fact]
    public async Task Get_KnownId_IsTheDocumentExactlyAsStored()
    {
        using var client = _factory.Viewer();

        using var response = await client.GetAsync("/api/alerts/" + TestAlerts.VirusTotalId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TestAlerts.VirusTotal(TestAlerts.VirusTotalId, TestAlerts.Now.AddHours(-1).AddSeconds(5)), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Get_UnknownId_Is404Problem()
    {
        using var client = _factory.Viewer();

        using var response = await client.GetAsync("/api/alerts/9999.1");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Histogram_CountsPerBucket()
    {
        using var client = _factory.Viewer();

        var histogram = await client.GetFromJsonAsync<JsonElement>("/api/alerts/histogram?from=now-1h&to=now&buckets=6");

        Assert.Equal(600, histogram.GetProperty("intervalSeconds").GetDouble());
        Assert.Equal(TestAlerts.Now.AddHours(-1), histogram.GetProperty("from").GetDateTimeOffset());
        var counts = histogram.GetProperty("buckets").EnumerateArray().Select(b => b.GetProperty("count").GetInt64()).ToArray();
        Assert.Equal([4L, 1, 1, 1, 1, 0], counts);
    }

    [Theory]
    [InlineData("rules", "554", 1)]
    [InlineData("agents", "001", 5)]
    [InlineData("files", TestAlerts.Eicar, 4)]
    public async Task Top_GroupsByField(string field, string key, long count)
    {
        using var client = _factory.Viewer();

        var top = await client.GetFromJsonAsync<JsonElement>($"/api/alerts/top/{field}?size=10");

        var term = top.EnumerateArray().First(t => t.GetProperty("key").GetString() == key);
        Assert.Equal(count, term.GetProperty("count").GetInt64());
        Assert.False(string.IsNullOrEmpty(term.GetProperty("label").GetString()));
    }

    [Fact]
    public async Task Top_UnknownField_Is400()
    {
        using var client = _factory.Viewer();

        using var response = await client.GetAsync("/api/alerts/top/colours");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
