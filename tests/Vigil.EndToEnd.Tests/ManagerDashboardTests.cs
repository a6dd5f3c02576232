using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vigil.Core;

namespace Vigil.EndToEnd.Tests;

/// <summary>The manager's API acting on an agent's quarantine: the command goes down the agent's own channel.</summary>
public sealed partial class ManagerDashboardTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    [GeneratedRegex(@"vigil: dashboard on (http://127\.0\.0\.1:\d+/?)")]
    private static partial Regex DashboardAddress();

    [Fact]
    public async Task Manager_RestoreFromTheApi_RunsOnTheAgentThatHoldsTheFile_AndTheIndexFollows()
    {
        using var fixture = new TransportFixture();
        var password = "Admin-" + RandomNumberGenerator.GetHexString(16, lowercase: true);
        await using var manager = fixture.StartManager(new Dictionary<string, string> { ["VIGIL_ADMIN_PASSWORD"] = password });
        await manager.WaitForOutputAsync("vigil: dashboard on", s_flow);
        var address = new Uri(DashboardAddress().Match(manager.Output).Groups[1].Value);
        var web1 = await fixture.EnrollAsync("web-01");
        var web2 = await fixture.EnrollAsync("web-02");
        await using var agent1 = TransportFixture.StartAgent(web1);
        await using var agent2 = TransportFixture.StartAgent(web2);
        await agent1.WaitForOutputAsync("Connected to the manager", s_flow);
        await agent2.WaitForOutputAsync("Connected to the manager", s_flow);

        var eicar = Path.Combine(web2.Watched, "eicar.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);
        await fixture.WaitForAlertsAsync(alerts => alerts.Any(a => TransportFixture.RuleId(a) == "200303"), s_flow, manager, agent2);
        Assert.False(File.Exists(eicar));

        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = address };
        using var login = await client.PostAsJsonAsync("api/login", new { username = "admin", password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var csrf = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("csrfToken").GetString()!;

        var entry = await WaitForQuarantineAsync(client, "002", eicar, "quarantined");
        var id = entry.GetProperty("id").GetInt64();

        // A restore sent for the wrong agent finds nothing; the right one is sent to agent 002 only.
        using (var wrong = new HttpRequestMessage(HttpMethod.Post, $"api/quarantine/001/{id}/restore"))
        {
            wrong.Headers.Add("X-CSRF-Token", csrf);
            using var answer = await client.SendAsync(wrong);
            Assert.NotEqual(HttpStatusCode.Accepted, answer.StatusCode);
        }

        using (var restore = new HttpRequestMessage(HttpMethod.Post, $"api/quarantine/002/{id}/restore"))
        {
            restore.Headers.Add("X-CSRF-Token", csrf);
            using var answer = await client.SendAsync(restore);
            Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        }

        await fixture.WaitForAlertsAsync(alerts => alerts.Any(a => TransportFixture.RuleId(a) == "200300"), s_flow, manager, agent2);
        Assert.True(File.Exists(eicar), "the file is back on agent 2");
        Assert.Equal(Eicar.Sha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(eicar))));
        // The agent says so once the restore has returned: after the log line the alert comes from, so it may follow it.
        await agent2.WaitForOutputAsync("Quarantine command from the manager done", s_flow);
        Assert.DoesNotContain("Quarantine command", agent1.Output, StringComparison.Ordinal);
        var restored = await WaitForQuarantineAsync(client, "002", eicar, "restored");
        Assert.Equal(id, restored.GetProperty("id").GetInt64());

        // The restored file's hash is exempt: it stays, and no second removal runs.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(File.Exists(eicar));
    }

    private static async Task<JsonElement> WaitForQuarantineAsync(HttpClient client, string agentId, string path, string state)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var items = await client.GetFromJsonAsync<JsonElement>("api/quarantine");
            foreach (var item in items.EnumerateArray())
            {
                if (item.GetProperty("agentId").GetString() == agentId && item.GetProperty("path").GetString() == path && item.GetProperty("state").GetString() == state)
                {
                    return item;
                }
            }

            if (clock.Elapsed > s_flow)
            {
                throw new TimeoutException($"no {state} quarantine entry for {path} on agent {agentId}: {items}");
            }

            await Task.Delay(200);
        }
    }
}
