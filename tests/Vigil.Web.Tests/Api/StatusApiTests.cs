using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Vigil.Tests.Common;
using Vigil.Web.Api;
using Vigil.Web.Index;

namespace Vigil.Web.Tests.Api;

/// <summary>/api/status: each host's scan under way and the limits it reached, which the dashboard's banner shows.</summary>
public sealed class StatusApiTests
{
    [Fact]
    public async Task Status_NeedsASession_AndGivesEachHostsScanAndLimitsWithTheSettingToChange()
    {
        using var factory = new ManagerApiFactory();
        factory.Operations.Hosts.Add(new HostCoverage(
            "000",
            "vigil-host",
            "live",
            StatusApi.Scan(first: true, files: 1500, bytes: 3 << 20, elapsed: TimeSpan.FromSeconds(3), expected: 6000),
            [new LimitStatus("file_limit", "FIM file_limit reached (5,000 entries)", "<syscheck><file_limit><entries> in /etc/vigil/ossec.conf", null)],
            BaselineEntries: 5000,
            Watches: 120,
            DiskFreeBytes: 1L << 34));
        using var anonymous = factory.Anonymous();
        using var viewer = factory.Viewer();

        using var refused = await anonymous.GetAsync("/api/status");
        var status = await viewer.GetFromJsonAsync<JsonElement>("/api/status");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var host = Assert.Single(status.GetProperty("hosts").EnumerateArray());
        Assert.Equal("000", host.GetProperty("agentId").GetString());
        Assert.Equal("live", host.GetProperty("source").GetString());
        var scan = host.GetProperty("scan");
        Assert.True(scan.GetProperty("first").GetBoolean());
        Assert.Equal(1500, scan.GetProperty("files").GetInt64());
        Assert.Equal(500, scan.GetProperty("filesPerSecond").GetDouble());
        Assert.Equal(6000, scan.GetProperty("expectedFiles").GetInt64());
        Assert.Equal(9, scan.GetProperty("secondsLeft").GetDouble()); // 4,500 files left at 500 files/s
        var limit = Assert.Single(host.GetProperty("limits").EnumerateArray());
        Assert.Equal("file_limit", limit.GetProperty("kind").GetString());
        Assert.Equal("<syscheck><file_limit><entries> in /etc/vigil/ossec.conf", limit.GetProperty("setting").GetString());
        Assert.Equal(JsonValueKind.Null, limit.GetProperty("since").ValueKind);
    }

    [Fact]
    public void FromAlerts_TheNewestLimitOfEachKindPerAgent_ADiskBackAboveTheMinimumIsNoLimit()
    {
        using var temp = new TempDirectory("vigil-status");
        using var index = new AlertIndex(AlertIndex.PathUnder(temp.Path), new AlertIndexOptions(), new FakeTimeProvider(TestAlerts.Now));
        var now = TestAlerts.Now;
        index.Add(
        [
            TestAlerts.Notice("1.1", now.AddHours(-3), 200201, "vigil: FIM file_limit reached (100 entries); new files are not monitored, first skipped: '/srv/a'", TestAlerts.Web01),
            TestAlerts.Notice("1.2", now.AddHours(-2), 200404, "vigil: Low disk space for /var/lib/vigil: 1.0 MiB free", TestAlerts.Web01),
            TestAlerts.Notice("1.3", now.AddHours(-1), 200200, "vigil: Real-time watches exhausted; scheduled scans only for: /srv", TestAlerts.Web01),
            TestAlerts.Notice("2.1", now.AddHours(-2), 200404, "vigil: Low disk space for /data: 2.0 MiB free", TestAlerts.Db01),
            TestAlerts.Notice("2.2", now.AddMinutes(-30), 200405, "vigil: Disk space recovered for /data: 9.0 GiB free", TestAlerts.Db01),
            TestAlerts.Notice("3.1", now.AddDays(-3), 200201, "vigil: FIM file_limit reached (100 entries); long ago", TestAlerts.Db01),
            TestAlerts.Notice("4.1", now.AddMinutes(-5), 200404, "vigil: Low disk space for /own", new System.Text.Json.Nodes.JsonObject { ["id"] = "000", ["name"] = "self" }),
        ]);

        var hosts = StatusApi.FromAlerts(index, now, TimeSpan.FromDays(1), new HashSet<string>(StringComparer.Ordinal) { "000" });

        // db01's disk came back and its file_limit alert is older than the window: nothing to show for it.
        var web01 = Assert.Single(hosts);
        Assert.Equal("001", web01.AgentId);
        Assert.Equal("web01", web01.AgentName);
        Assert.Equal("alerts", web01.Source);
        Assert.Equal(["disk", "file_limit", "inotify_watches"], web01.Limits.Select(l => l.Kind).Order(StringComparer.Ordinal));
        var disk = web01.Limits.Single(l => l.Kind == "disk");
        Assert.Equal("Low disk space for /var/lib/vigil: 1.0 MiB free", disk.Message);
        Assert.Equal(now.AddHours(-2), disk.Since);
        Assert.Contains("max_user_watches", web01.Limits.Single(l => l.Kind == "inotify_watches").Setting, StringComparison.Ordinal);
    }
}
