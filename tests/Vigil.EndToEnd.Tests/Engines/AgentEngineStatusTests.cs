using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests.Engines;

/// <summary>
/// A real `vigil agent` with a custom-vigil-yara block (real libyara) connected to a real `vigil manager`: the agent
/// reports its engines, and the manager's /api/engines (the Intelligence page) lists them under the agent, with the
/// rules' version the agent itself printed, the rules' health when a rule file breaks, and the last report again
/// after the manager restarts.
/// </summary>
public sealed partial class AgentEngineStatusTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    [GeneratedRegex(@"vigil: dashboard on (http://127\.0\.0\.1:\d+/?)")]
    private static partial Regex DashboardAddress();

    [GeneratedRegex(@"vigil: engine custom-vigil-yara: yara version ([0-9a-f]+)")]
    private static partial Regex YaraVersion();

    [Fact]
    public async Task Agent_YaraBlock_ManagerApiListsItsVersionHealthAndKeepsTheLastReport()
    {
        using var fixture = new TransportFixture();
        using var outside = new TempDirectory("vigil-e2e-agent-engine-status");
        var rules = outside.Combine("yara");
        Directory.CreateDirectory(rules);
        File.WriteAllText(Path.Combine(rules, "status.yar"), "rule Vigil_E2E_Status { strings: $a = \"vigil-e2e-status-marker\" condition: $a }\n");
        var password = "Admin-" + RandomNumberGenerator.GetHexString(16, lowercase: true);
        var environment = new Dictionary<string, string> { ["VIGIL_ADMIN_PASSWORD"] = password };

        JsonElement reported;
        await using (var manager = fixture.StartManager(environment))
        {
            await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
            await manager.WaitForOutputAsync("vigil: dashboard on", s_flow);
            var web = await fixture.EnrollAsync("web-01");
            var config = Path.Combine(web.Home, "config", "ossec.conf");
            var text = File.ReadAllText(config);
            var at = text.LastIndexOf("</ossec_config>", StringComparison.Ordinal);
            File.WriteAllText(config, text[..at] + $$"""
                  <integration>
                    <name>custom-vigil-yara</name>
                    <options>{"rules": ["{{rules}}"], "reload_seconds": 1}</options>
                  </integration>
                """ + text[at..]);
            await using var agent = TransportFixture.StartAgent(web);
            await agent.WaitForOutputAsync("vigil: agent ready", s_flow);
            var version = YaraVersion().Match(agent.Output).Groups[1].Value;
            Assert.NotEmpty(version);

            using var client = await LoginAsync(new Uri(DashboardAddress().Match(manager.Output).Groups[1].Value), password);
            var yara = await WaitForEngineAsync(client, manager, e => e.GetProperty("version").GetString() == version);
            Assert.Equal("web-01", yara.GetProperty("agentName").GetString());
            Assert.Equal("yara", yara.GetProperty("name").GetString());
            Assert.Equal("up", yara.GetProperty("state").GetString());
            Assert.Equal(JsonValueKind.String, yara.GetProperty("reportedAt").ValueKind);
            // The manager runs no engine of its own: every row is the agent's.
            Assert.All(await EnginesAsync(client), e => Assert.Equal("001", e.GetProperty("agentId").GetString()));

            // A rule file that does not compile: the agent keeps its rules and says so; the manager shows it.
            File.WriteAllText(Path.Combine(rules, "broken.yar"), "rule Broken {\n  condition:\n    nonsense(\n}\n");
            reported = await WaitForEngineAsync(client, manager, e => e.GetProperty("lastError").GetString() is { } error && error.Contains("broken.yar", StringComparison.Ordinal));
            Assert.Equal(version, reported.GetProperty("version").GetString());
            Assert.Equal("reload_error", reported.GetProperty("state").GetString()); // the previous rules stay in force, the edit failed

            Assert.Equal(0, await agent.InterruptAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(0, await manager.InterruptAsync(TimeSpan.FromSeconds(30)));
        }

        // The agent stays away; the manager, started again, still shows what it last reported.
        await using var again = fixture.StartManager(environment);
        await again.WaitForOutputAsync("vigil: manager ready", s_flow);
        await again.WaitForOutputAsync("vigil: dashboard on", s_flow);
        using var second = await LoginAsync(new Uri(DashboardAddress().Match(again.Output).Groups[1].Value), password);
        var kept = Assert.Single(await EnginesAsync(second));
        Assert.Equal(reported.GetProperty("version").GetString(), kept.GetProperty("version").GetString());
        Assert.Equal(reported.GetProperty("lastError").GetString(), kept.GetProperty("lastError").GetString());
        Assert.Equal("001", kept.GetProperty("agentId").GetString());
        Assert.Equal(0, await again.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    private static async Task<HttpClient> LoginAsync(Uri address, string password)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = address };
        using var login = await client.PostAsJsonAsync("api/login", new { username = "admin", password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return client;
    }

    private static async Task<List<JsonElement>> EnginesAsync(HttpClient client) =>
        [.. (await client.GetFromJsonAsync<JsonElement>("api/engines")).EnumerateArray()];

    // The agent's custom-vigil-yara row once it satisfies done.
    private static async Task<JsonElement> WaitForEngineAsync(HttpClient client, VigilProcess process, Func<JsonElement, bool> done)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < s_flow)
        {
            var engines = await EnginesAsync(client);
            last = string.Join(", ", engines.Select(e => e.GetRawText()));
            if (engines.FirstOrDefault(e => e.GetProperty("agentId").GetString() == "001" && e.GetProperty("key").GetString() == "custom-vigil-yara") is { ValueKind: JsonValueKind.Object } row
                && done(row))
            {
                return row;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"/api/engines never as expected; last: [{last}]\nOutput:\n{process.Output}");
    }
}
