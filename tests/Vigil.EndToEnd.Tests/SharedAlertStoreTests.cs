using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>Managers on one PostgreSQL share the alert store: the API of one shows the alerts another handled.</summary>
public sealed partial class SharedAlertStoreTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    [GeneratedRegex(@"vigil: dashboard on (http://127\.0\.0\.1:\d+/?)")]
    private static partial Regex DashboardAddress();

    [Fact]
    public async Task Manager_AlertsHandledByA_AreSearchedAndChainedThroughBsApi()
    {
        using var fixture = new TransportFixture();
        var name = await postgres.Server.CreateDatabaseAsync();
        var caPassword = Path.Combine(fixture.AgentsRoot, "..", "ca.pass");
        await File.WriteAllTextAsync(caPassword, "ca-secret-for-tests\n");
        var a = fixture.AddManager("manager-a", "--database", postgres.Server.Url(name), "--database-password-file", postgres.Server.PasswordFile, "--ca-password-file", caPassword);
        var b = fixture.AddManager("manager-b", "--database", postgres.Server.Url(name), "--database-password-file", postgres.Server.PasswordFile, "--ca-password-file", caPassword);
        var password = "Admin-" + RandomNumberGenerator.GetHexString(16, lowercase: true);
        var environment = new Dictionary<string, string> { ["VIGIL_ADMIN_PASSWORD"] = password };
        await using var managerA = a.Start(environment);
        await managerA.WaitForOutputAsync("vigil: manager ready", s_flow);
        await using var managerB = b.Start(environment);
        await managerB.WaitForOutputAsync("vigil: manager ready", s_flow);
        await managerB.WaitForOutputAsync("vigil: dashboard on", s_flow);
        var addressB = new Uri(DashboardAddress().Match(managerB.Output).Groups[1].Value);

        var web1 = await fixture.EnrollAsync("web-01", at: a);
        await using var agent = VigilProcess.Start(["agent", "--home", web1.Home, "--data-dir", web1.Data, "--keep-alive", "1", "--manager", a.AgentEndpoint]);
        await agent.WaitForOutputAsync($"Connected to the manager at {a.AgentEndpoint}", s_flow);
        var eicar = Path.Combine(web1.Watched, "eicar.com");
        await File.WriteAllBytesAsync(eicar, Core.Eicar.Bytes);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!a.Alerts().Any(x => TransportFixture.RuleId(x) == "200303"))
        {
            Assert.True(clock.Elapsed < s_flow, $"no quarantine alert at A:\n{managerA.Output}\n----\n{agent.Output}");
            await Task.Delay(100);
        }

        Assert.Empty(b.Alerts()); // B handled nothing itself

        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = addressB };
        using (var login = await client.PostAsJsonAsync("api/login", new { username = "admin", password }))
        {
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        }

        // The index writer is a step behind alerts.json: poll B's API (bounded) until it shows A's alerts.
        JsonElement chain = default;
        var stages = new List<string>();
        clock.Restart();
        while (!stages.Contains("quarantine"))
        {
            Assert.True(clock.Elapsed < s_flow, $"B's chain of {eicar} never showed the quarantine: [{string.Join(", ", stages)}]\n{managerA.Output}");
            await Task.Delay(200);
            chain = await client.GetFromJsonAsync<JsonElement>($"api/chain?agent=001&file={Uri.EscapeDataString(eicar)}");
            stages = [.. chain.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("stage").GetString()!)];
        }

        Assert.Equal("fim", stages[0]);
        Assert.Contains("verdict", stages);
        Assert.Equal(eicar, Assert.Single(chain.GetProperty("quarantine").EnumerateArray()).GetProperty("path").GetString());

        var search = await client.GetFromJsonAsync<JsonElement>($"api/alerts?q={Uri.EscapeDataString($"agent.name: web-01 AND syscheck.path: \"{eicar}\"")}");
        Assert.True(search.GetProperty("total").GetInt64() >= 1, search.ToString());
        var quarantine = await client.GetFromJsonAsync<JsonElement>("api/quarantine");
        Assert.Contains(quarantine.EnumerateArray(), q => q.GetProperty("path").GetString() == eicar);
        Assert.False(File.Exists(eicar));
    }
}
