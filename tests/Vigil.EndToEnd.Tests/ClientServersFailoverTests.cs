using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// An agent whose managers are the <c>&lt;client&gt;&lt;server&gt;</c> blocks of its ossec.conf, against managers
/// sharing one real PostgreSQL: it skips a dead first server, moves on when the manager it is on is killed, and
/// <c>--manager</c> on the command line wins over the blocks.
/// </summary>
public sealed class ClientServersFailoverTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Agent_ClientServers_SkipsADeadFirst_MovesOnWhenItsManagerIsKilled_AndManagerOptionWins()
    {
        using var fixture = new TransportFixture();
        var name = await postgres.Server.CreateDatabaseAsync();
        var caPassword = Path.Combine(fixture.AgentsRoot, "..", "ca.pass");
        await File.WriteAllTextAsync(caPassword, "ca-secret-for-tests\n");
        string[] shared = ["--database", postgres.Server.Url(name), "--database-password-file", postgres.Server.PasswordFile, "--ca-password-file", caPassword];
        var a = fixture.AddManager("manager-a", shared);
        var b = fixture.AddManager("manager-b", shared);
        var managerA = a.Start();
        VigilProcess? restartedA = null;
        try
        {
            await managerA.WaitForOutputAsync("vigil: manager ready", s_flow);
            await using var managerB = b.Start();
            await managerB.WaitForOutputAsync("vigil: manager ready", s_flow);
            var web1 = await fixture.EnrollAsync("web-01", at: a);
            var dead = FreePort();
            var config = Path.Combine(web1.Home, "config", "ossec.conf");
            await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace(
                "<global>",
                $"""
                <client>
                    <server><address>127.0.0.1</address><port>{dead}</port></server>
                    <server><address>127.0.0.1</address><port>{a.AgentPort}</port></server>
                    <server><address>127.0.0.1</address><port>{b.AgentPort}</port><protocol>tcp</protocol></server>
                  </client>
                  <global>
                """,
                StringComparison.Ordinal));

            string first, second;
            await using (var agent = TransportFixture.StartAgent(web1))
            {
                // The first server is dead: the agent goes on to the second, A, and its events give alerts there.
                await agent.WaitForOutputAsync($"Connected to the manager at {a.AgentEndpoint}", s_flow);
                Assert.Contains($"vigil: managers from <client> at {config}", agent.Output, StringComparison.Ordinal);
                Assert.Contains($"127.0.0.1:{dead},{a.AgentEndpoint},{b.AgentEndpoint}", agent.Output, StringComparison.Ordinal);
                first = Path.Combine(web1.Watched, "on-a.txt");
                await File.WriteAllTextAsync(first, "handled by A");
                await WaitForAsync(() => Count(a.Alerts(), first) == 1, managerA, managerB, agent);

                // A is killed: the agent moves to the next server, B (past the dead one at the head of the list).
                var killed = System.Diagnostics.Stopwatch.StartNew();
                await managerA.KillAsync();
                await agent.WaitForOutputAsync($"Connected to the manager at {b.AgentEndpoint}", s_flow);
                var moved = killed.Elapsed;
                Assert.True(moved < TimeSpan.FromSeconds(10), $"the agent took {moved} to move to B:\n{agent.Output}");
                second = Path.Combine(web1.Watched, "on-b.txt");
                await File.WriteAllTextAsync(second, "handled by B");
                await WaitForAsync(() => Count(b.Alerts(), second) == 1, managerB, agent);
                await Console.Out.WriteLineAsync($"<client> failover: agent connected to B {moved.TotalMilliseconds:0} ms after A was killed");
            }

            // A runs again, and is the first live server of <client>; --manager names only B, and wins.
            restartedA = a.Start();
            await restartedA.WaitForOutputAsync("vigil: manager ready", s_flow);
            await using (var agent = VigilProcess.Start(["agent", "--home", web1.Home, "--data-dir", web1.Data, "--keep-alive", "1", "--manager", b.AgentEndpoint]))
            {
                await agent.WaitForOutputAsync($"Connected to the manager at {b.AgentEndpoint}", s_flow);
                Assert.Contains($"vigil: --manager {b.AgentEndpoint} is used; the 3 <server> block(s) of <client> at {config}", agent.Output, StringComparison.Ordinal);
                var third = Path.Combine(web1.Watched, "named-on-the-command-line.txt");
                await File.WriteAllTextAsync(third, "handled by B again");
                await WaitForAsync(() => Count(b.Alerts(), third) == 1, restartedA, managerB, agent);
                Assert.DoesNotContain($"Connected to the manager at {a.AgentEndpoint}", agent.Output, StringComparison.Ordinal);
                Assert.Equal(0, Count(a.Alerts(), third));
            }

            // Each event gave exactly one alert across the two managers.
            var all = a.Alerts().Concat(b.Alerts()).ToList();
            Assert.Equal(1, Count(all, first));
            Assert.Equal(1, Count(all, second));
        }
        finally
        {
            await managerA.DisposeAsync();
            if (restartedA is not null)
            {
                await restartedA.DisposeAsync();
            }
        }
    }

    private static int Count(List<JsonElement> alerts, string path) => alerts.Count(x =>
        x.TryGetProperty("syscheck", out var syscheck) && syscheck.TryGetProperty("path", out var p) && p.GetString() == path);

    private static async Task WaitForAsync(Func<bool> done, params VigilProcess[] processes)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > s_flow)
            {
                throw new TimeoutException($"not done within {s_flow}. Output:\n{string.Join("\n----\n", processes.Select(p => p.Output))}");
            }

            await Task.Delay(100);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
