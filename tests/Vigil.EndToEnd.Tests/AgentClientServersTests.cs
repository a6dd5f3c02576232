using System.Net;
using System.Net.Sockets;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>The agent's <c>&lt;client&gt;&lt;server&gt;</c> blocks: its managers in order, as Wazuh's agents have them.</summary>
public sealed class AgentClientServersTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Agent_ClientServers_FailsOverFromADeadFirstToTheSecond_AndManagerOptionWins()
    {
        using var fixture = new TransportFixture();
        await using var manager = fixture.StartManager();
        await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
        var web1 = await fixture.EnrollAsync("web-01");
        var dead = FreePort();
        var config = Path.Combine(web1.Home, "config", "ossec.conf");
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace(
            "<global>",
            $"""
            <client>
                <server><address>127.0.0.1</address><port>{dead}</port><protocol>tcp</protocol></server>
                <server><address>127.0.0.1</address><port>{fixture.AgentPort}</port></server>
                <notify_time>10</notify_time>
              </client>
              <global>
            """,
            StringComparison.Ordinal));

        await using (var agent = TransportFixture.StartAgent(web1))
        {
            await agent.WaitForOutputAsync($"Connected to the manager at 127.0.0.1:{fixture.AgentPort}", s_flow);
            Assert.Contains($"vigil: managers from <client> at {config}:3: 127.0.0.1:{dead},127.0.0.1:{fixture.AgentPort}", agent.Output, StringComparison.Ordinal);
            var file = Path.Combine(web1.Watched, "after-failover.txt");
            await File.WriteAllTextAsync(file, "sent to the second server");
            await fixture.WaitForAlertsAsync(alerts => alerts.Any(a => a.ToString().Contains(file, StringComparison.Ordinal)), s_flow, manager, agent);
        }

        // --manager wins over <client>, and says so: here it names only the dead port, so the agent never connects.
        await using (var agent = VigilProcess.Start(["agent", "--home", web1.Home, "--data-dir", web1.Data, "--keep-alive", "1", "--manager", $"127.0.0.1:{dead}"]))
        {
            await agent.WaitForOutputAsync($"vigil: --manager 127.0.0.1:{dead} is used; the 2 <server> block(s) of <client> at {config}:3 are not", s_flow);
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.DoesNotContain("Connected to the manager", agent.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ConfigCheck_BadClientServers_ListsEachWithFileAndLine_Exit1()
    {
        using var temp = new TempDirectory("vigil-client");
        var home = TestInstall.WriteShippedHome(temp, "home");
        var config = temp.WriteFile("agent.conf", """
            <ossec_config>
              <client>
                <server>
                  <address></address>
                </server>
                <server>
                  <address>mgr-b.example</address>
                  <port>99999</port>
                </server>
              </client>
            </ossec_config>
            """);
        await using var check = VigilProcess.Start(["config", "check", "--config", config], new Dictionary<string, string> { ["VIGIL_HOME"] = home, ["VIGIL_DATA"] = temp.Combine("data") });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!check.HasExited)
        {
            Assert.True(clock.Elapsed < s_flow, check.Output);
            await Task.Delay(50);
        }

        await Task.Delay(100);
        Assert.True(check.ExitCode == 1, check.Output);
        Assert.Contains($"{config}:4: error: <address> of <server> must not be empty", check.Output, StringComparison.Ordinal);
        Assert.Contains($"{config}:8: error: <port> must be from 1 to 65535, got '99999'", check.Output, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
