using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// The limits a host runs into (file_limit, inotify watches, disk) and the first scan's progress: on the console, as
/// alerts, and in /api/status (what the dashboard's banner shows), for `vigil run` and for an agent at the manager.
/// The watch limit is Vigil's own cap (<c>max_realtime_watches</c>) on the real inotify: the machine's
/// fs.inotify.max_user_watches is shared and left alone; the cap is reported exactly as ENOSPC is.
/// </summary>
public sealed partial class CoverageStatusTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(120);

    // No file system here has a million gigabytes free: the disk limit is reached on the first reading.
    private const string UnreachableFreeSpace = "<min_free_disk>1000000GB</min_free_disk>";

    [GeneratedRegex(@"vigil: dashboard on (http://127\.0\.0\.1:\d+/?)")]
    private static partial Regex DashboardAddress();

    [Fact]
    public async Task Run_FirstScanProgressAndEveryLimit_AreOnTheConsoleInTheAlertsAndInApiStatus()
    {
        // 40 directories of 50 files at 200 files/s: a first scan of about 10 s that passes file_limit (500) early; 41
        // directories to watch and a cap of 10 watches.
        using var fixture = new RunFixture(
            syscheck: "<file_limit><enabled>yes</enabled><entries>500</entries></file_limit><max_files_per_second>200</max_files_per_second><max_realtime_watches>10</max_realtime_watches>",
            global: UnreachableFreeSpace);
        for (var d = 0; d < 40; d++)
        {
            var directory = Directory.CreateDirectory(Path.Combine(fixture.Watched, $"dir-{d:D2}")).FullName;
            for (var f = 0; f < 50; f++)
            {
                await File.WriteAllTextAsync(Path.Combine(directory, $"file-{f:D2}.txt"), $"content {d} {f}");
            }
        }

        var password = "Admin-" + RandomNumberGenerator.GetHexString(16, lowercase: true);
        await using var vigil = fixture.Start(new Dictionary<string, string> { ["VIGIL_ADMIN_PASSWORD"] = password });
        await vigil.WaitForOutputAsync("vigil: dashboard on", s_flow);
        using var client = await LoginAsync(new Uri(DashboardAddress().Match(vigil.Output).Groups[1].Value), password);

        // While the first scan runs: its progress.
        var scanning = await WaitForStatusAsync(client, vigil, hosts => Host(hosts, "000") is { } h && h.GetProperty("scan").ValueKind == JsonValueKind.Object
            && h.GetProperty("scan").GetProperty("files").GetInt64() > 0);
        var scan = Host(scanning, "000")!.Value.GetProperty("scan");
        Assert.True(scan.GetProperty("first").GetBoolean());
        Assert.True(scan.GetProperty("bytes").GetInt64() > 0);
        Assert.True(scan.GetProperty("filesPerSecond").GetDouble() > 0);
        Assert.Equal("live", Host(scanning, "000")!.Value.GetProperty("source").GetString());

        // Every limit, each with the setting to change.
        var limited = await WaitForStatusAsync(client, vigil, hosts => Kinds(Host(hosts, "000")).IsSupersetOf(["file_limit", "inotify_watches", "disk"]));
        var limits = Limits(Host(limited, "000"));
        Assert.Contains("<syscheck><file_limit><entries>", limits["file_limit"].GetProperty("setting").GetString(), StringComparison.Ordinal);
        Assert.Contains("<max_realtime_watches> in <syscheck>", limits["inotify_watches"].GetProperty("setting").GetString(), StringComparison.Ordinal);
        Assert.Contains("fs.inotify.max_user_watches", limits["inotify_watches"].GetProperty("setting").GetString(), StringComparison.Ordinal);
        Assert.Contains("<global><min_free_disk>", limits["disk"].GetProperty("setting").GetString(), StringComparison.Ordinal);
        Assert.Contains($"Low disk space for {fixture.Data}", limits["disk"].GetProperty("message").GetString(), StringComparison.Ordinal);

        // The console says each one out loud.
        await vigil.WaitForOutputAsync("vigil: ready", s_flow);
        Assert.Contains($"vigil: WARNING: Low disk space for {fixture.Data}: ", vigil.Output, StringComparison.Ordinal);
        Assert.Contains("change <min_free_disk> in <global>", vigil.Output, StringComparison.Ordinal);
        Assert.Contains($"vigil: WARNING: inotify watches exhausted under {fixture.Watched} (10 watches)", vigil.Output, StringComparison.Ordinal);
        Assert.Contains("raise <max_realtime_watches> in <syscheck>", vigil.Output, StringComparison.Ordinal);
        Assert.Contains("vigil: WARNING: FIM file_limit reached (500 entries)", vigil.Output, StringComparison.Ordinal);

        // As alerts; and once the scan is over, no progress is shown but the limits stay.
        await fixture.WaitForRulesAsync(vigil, s_flow, "200200", "200201", "200404");
        var after = await WaitForStatusAsync(client, vigil, hosts => Host(hosts, "000") is { } h && h.GetProperty("scan").ValueKind == JsonValueKind.Null);
        Assert.True(Kinds(Host(after, "000")).IsSupersetOf(["file_limit", "inotify_watches", "disk"]));
        Assert.Equal(0, await vigil.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Manager_AnAgentsLimits_AreInApiStatusUnderThatAgent_AndTheManagersOwnDiskUnder000()
    {
        using var fixture = new TransportFixture(managerGlobal: UnreachableFreeSpace);
        var password = "Admin-" + RandomNumberGenerator.GetHexString(16, lowercase: true);
        await using var manager = fixture.StartManager(new Dictionary<string, string> { ["VIGIL_ADMIN_PASSWORD"] = password });
        await manager.WaitForOutputAsync("vigil: dashboard on", s_flow);
        var web1 = await fixture.EnrollAsync("web-01", syscheck: "<max_realtime_watches>1</max_realtime_watches>", global: UnreachableFreeSpace);
        var web2 = await fixture.EnrollAsync("web-02");
        for (var d = 0; d < 3; d++)
        {
            Directory.CreateDirectory(Path.Combine(web1.Watched, $"dir-{d}"));
        }

        var filesOf2 = Directory.EnumerateFiles(web2.Watched, "*", SearchOption.AllDirectories).Count() + 3;
        for (var f = 0; f < 3; f++)
        {
            File.WriteAllText(Path.Combine(web2.Watched, $"file-{f}.txt"), $"file {f}\n");
        }

        await using var agent1 = TransportFixture.StartAgent(web1);
        await using var agent2 = TransportFixture.StartAgent(web2);
        await agent1.WaitForOutputAsync("Connected to the manager", s_flow);
        await agent2.WaitForOutputAsync("Connected to the manager", s_flow);
        Assert.Contains("vigil: WARNING: Low disk space for ", agent1.Output, StringComparison.Ordinal);
        await fixture.WaitForAlertsAsync(
            alerts => alerts.Any(a => TransportFixture.RuleId(a) == "200404") && alerts.Any(a => TransportFixture.RuleId(a) == "200200"), s_flow, manager, agent1);

        using var client = await LoginAsync(new Uri(DashboardAddress().Match(manager.Output).Groups[1].Value), password);
        var status = await WaitForStatusAsync(client, manager, hosts => Kinds(Host(hosts, "001")).IsSupersetOf(["inotify_watches", "disk"]));
        var agent = Host(status, "001")!.Value;
        Assert.Equal("alerts", agent.GetProperty("source").GetString());
        Assert.Equal("web-01", agent.GetProperty("agentName").GetString());
        var limits = Limits(agent);
        Assert.Contains($"Low disk space for {web1.Data}", limits["disk"].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains(web1.Watched, limits["inotify_watches"].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.String, limits["disk"].GetProperty("since").ValueKind);

        // Each agent's first scan, as it reported it to the manager: its figures once it ended; the agent without
        // limits has none. The manager's own data directory is listed as 000.
        var scanned = await WaitForStatusAsync(client, manager, hosts => Host(hosts, "002") is { } h && h.GetProperty("lastScan").ValueKind == JsonValueKind.Object);
        var second = Host(scanned, "002")!.Value;
        Assert.Empty(Kinds(second));
        Assert.True(second.GetProperty("lastScan").GetProperty("first").GetBoolean());
        Assert.Equal(filesOf2, second.GetProperty("lastScan").GetProperty("files").GetInt64());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("scan").ValueKind);
        var firstAgent = await WaitForStatusAsync(client, manager, hosts => Host(hosts, "001") is { } h && h.GetProperty("lastScan").ValueKind == JsonValueKind.Object);
        Assert.True(Host(firstAgent, "001")!.Value.GetProperty("lastScan").GetProperty("files").GetInt64() >= 0);
        Assert.True(Kinds(Host(firstAgent, "001")).IsSupersetOf(["inotify_watches", "disk"]));
        Assert.Contains("vigil: WARNING: Low disk space for ", manager.Output, StringComparison.Ordinal);
        var own = await WaitForStatusAsync(client, manager, hosts => Kinds(Host(hosts, "000")).Contains("disk"));
        Assert.Contains($"Low disk space for {fixture.ManagerData}", Limits(Host(own, "000"))["disk"].GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private static async Task<HttpClient> LoginAsync(Uri address, string password)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = address };
        using var login = await client.PostAsJsonAsync("api/login", new { username = "admin", password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return client;
    }

    private static async Task<JsonElement> WaitForStatusAsync(HttpClient client, VigilProcess process, Func<JsonElement, bool> done)
    {
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < s_flow)
        {
            var status = await client.GetFromJsonAsync<JsonElement>("api/status");
            last = status.GetRawText();
            var hosts = status.GetProperty("hosts");
            if (done(hosts))
            {
                return hosts;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"/api/status never as expected; last: {last}\nOutput:\n{process.Output}");
    }

    private static JsonElement? Host(JsonElement hosts, string agentId) =>
        hosts.EnumerateArray().Where(h => h.GetProperty("agentId").GetString() == agentId).Select(h => (JsonElement?)h).FirstOrDefault();

    private static HashSet<string> Kinds(JsonElement? host) =>
        host is { } h ? [.. h.GetProperty("limits").EnumerateArray().Select(l => l.GetProperty("kind").GetString()!)] : [];

    private static Dictionary<string, JsonElement> Limits(JsonElement? host) =>
        host!.Value.GetProperty("limits").EnumerateArray().ToDictionary(l => l.GetProperty("kind").GetString()!);
}
