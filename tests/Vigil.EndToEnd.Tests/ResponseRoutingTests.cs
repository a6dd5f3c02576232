using System.Diagnostics;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// Active-response routing between managers on one real PostgreSQL: a response decided on one manager for an agent
/// connected to another reaches it there, and one waiting for an agent that moved is carried out once.
/// </summary>
public sealed class ResponseRoutingTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    // Agent 001's new file (rule 100201) decides a response for agent 002 (defined-agent), on whichever manager
    // analyses agent 001's events. Agent 002 has no program by that name: it logs that, once per response it carries out.
    private const string Responses = """
        <command><name>notify-peer</name><executable>notify-peer.sh</executable><timeout_allowed>no</timeout_allowed></command>
        <active-response><disabled>no</disabled><command>notify-peer</command><location>defined-agent</location><agent_id>002</agent_id><rules_id>100201</rules_id></active-response>
        """;

    private const string CarriedOut = "vigil-execd: unknown active response notify-peer0";

    [Fact]
    public async Task Response_DecidedOnAForAnAgentConnectedToB_IsDeliveredThroughBOnce()
    {
        using var fixture = new TransportFixture(Responses);
        var shared = await SharedArgumentsAsync(fixture);
        var a = fixture.AddManager("manager-a", shared);
        var b = fixture.AddManager("manager-b", shared);
        await using var managerA = a.Start();
        await managerA.WaitForOutputAsync("vigil: manager ready", s_flow);
        await using var managerB = b.Start();
        await managerB.WaitForOutputAsync("vigil: manager ready", s_flow);
        var web1 = await fixture.EnrollAsync("web-01", at: a);
        var web2 = await fixture.EnrollAsync("web-02", at: a);
        await using var agent1 = StartAgent(web1, a);
        await using var agent2 = StartAgent(web2, b);
        await agent1.WaitForOutputAsync("Connected to the manager", s_flow);
        await agent2.WaitForOutputAsync("Connected to the manager", s_flow);
        await WaitForAsync(async () => await LeaseOfAsync(shared, "002") == ManagerName(b), managerB, agent2);

        var decided = Stopwatch.StartNew();
        await File.WriteAllTextAsync(Path.Combine(web1.Watched, "new.txt"), "hello");
        await managerA.WaitForOutputAsync($"Active response notify-peer0 for agent 002 handed to the shared database: manager {ManagerName(b)} holds its lease", s_flow);
        await managerB.WaitForOutputAsync($"Active response notify-peer0 sent to agent 002 (routed from manager {ManagerName(a)})", s_flow);
        await agent2.WaitForOutputAsync("Active response notify-peer0 received from the manager", s_flow);
        await WaitForAsync(() => Task.FromResult(ConfirmedFrom(managerB, a)), managerB, agent2);
        var delivered = decided.Elapsed;
        Assert.Equal("0", await CountAsync(shared, "SELECT count(*) FROM routed_responses"));

        await Task.Delay(TimeSpan.FromSeconds(6)); // past B's next poll: a second delivery would show now
        Assert.Equal(1, CountCarriedOut(web2));
        Assert.DoesNotContain("notify-peer0 received", agent1.Output, StringComparison.Ordinal);
        await Console.Out.WriteLineAsync($"routing: file written on agent 001 (A) to response carried out on agent 002 (B) in {delivered.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Response_PendingForAnAgentThatMovesFromAToB_IsCarriedOutOnceAfterItReconnects_AcrossRestarts()
    {
        using var fixture = new TransportFixture(Responses);
        var shared = await SharedArgumentsAsync(fixture);
        var a = fixture.AddManager("manager-a", shared);
        var b = fixture.AddManager("manager-b", shared);
        var managerA = a.Start();
        var managerB = b.Start();
        try
        {
            await managerA.WaitForOutputAsync("vigil: manager ready", s_flow);
            await managerB.WaitForOutputAsync("vigil: manager ready", s_flow);
            var web1 = await fixture.EnrollAsync("web-01", at: a);
            var web2 = await fixture.EnrollAsync("web-02", at: a);

            // Agent 002 was on A and went away: its lease is released.
            await using (var away = StartAgent(web2, a))
            {
                await away.WaitForOutputAsync("Connected to the manager", s_flow);
                await WaitForAsync(async () => await LeaseOfAsync(shared, "002") == ManagerName(a), managerA, away);
                Assert.Equal(0, await away.InterruptAsync(TimeSpan.FromSeconds(30)));
            }

            await WaitForAsync(async () => await LeaseOfAsync(shared, "002") is null, managerA);
            await using var agent1 = StartAgent(web1, a);
            await agent1.WaitForOutputAsync("Connected to the manager", s_flow);
            await File.WriteAllTextAsync(Path.Combine(web1.Watched, "new.txt"), "hello");
            await managerA.WaitForOutputAsync("Active response notify-peer0 for agent 002 handed to the shared database: no manager holds its lease", s_flow);

            // Both managers restart (B killed, A stopped) before the agent comes back; the response is still there.
            await managerB.KillAsync();
            await managerB.DisposeAsync();
            await agent1.InterruptAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, await managerA.InterruptAsync(TimeSpan.FromSeconds(30)));
            await managerA.DisposeAsync();
            Assert.Equal("1", await CountAsync(shared, "SELECT count(*) FROM routed_responses WHERE agent_id = '002'"));
            managerB = b.Start();
            await managerB.WaitForOutputAsync("vigil: manager ready", s_flow);

            // It comes back on B: B delivers what A decided.
            await using (var moved = StartAgent(web2, b))
            {
                await moved.WaitForOutputAsync("Active response notify-peer0 received from the manager", s_flow);
                await WaitForAsync(() => Task.FromResult(ConfirmedFrom(managerB, a)), managerB, moved);
                Assert.Equal(0, await moved.InterruptAsync(TimeSpan.FromSeconds(30)));
            }

            Assert.Equal("0", await CountAsync(shared, "SELECT count(*) FROM routed_responses"));

            // And back on A (restarted): nothing is carried out again.
            managerA = a.Start();
            await managerA.WaitForOutputAsync("vigil: manager ready", s_flow);
            await using (var back = StartAgent(web2, a))
            {
                await back.WaitForOutputAsync("Connected to the manager", s_flow);
                await Task.Delay(TimeSpan.FromSeconds(6)); // past A's poll of the shared table
                Assert.DoesNotContain("notify-peer0 received", back.Output, StringComparison.Ordinal);
            }

            Assert.Equal(1, CountCarriedOut(web2));
            Assert.DoesNotContain(a.Alerts().Concat(b.Alerts()), x => TransportFixture.RuleId(x) == "200403");
        }
        finally
        {
            await managerA.DisposeAsync();
            await managerB.DisposeAsync();
        }
    }

    [Fact]
    public async Task Response_WhoseConfirmationWasLost_IsSentAgainByAnotherManager_AndCarriedOutOnce()
    {
        using var fixture = new TransportFixture(Responses);
        var shared = await SharedArgumentsAsync(fixture);
        var a = fixture.AddManager("manager-a", shared);
        var b = fixture.AddManager("manager-b", shared);
        await using var managerA = a.Start();
        await managerA.WaitForOutputAsync("vigil: manager ready", s_flow);
        await using var managerB = b.Start();
        await managerB.WaitForOutputAsync("vigil: manager ready", s_flow);
        var web1 = await fixture.EnrollAsync("web-01", at: a);
        var web2 = await fixture.EnrollAsync("web-02", at: a);
        await using var agent1 = StartAgent(web1, a);
        await agent1.WaitForOutputAsync("Connected to the manager", s_flow);
        await File.WriteAllTextAsync(Path.Combine(web1.Watched, "new.txt"), "hello");
        await managerA.WaitForOutputAsync("Active response notify-peer0 for agent 002 handed to the shared database: no manager holds its lease", s_flow);
        await CountAsync(shared, "CREATE TABLE kept AS SELECT * FROM routed_responses");

        await using (var onB = StartAgent(web2, b))
        {
            await onB.WaitForOutputAsync("Active response notify-peer0 received from the manager", s_flow);
            await WaitForAsync(() => Task.FromResult(ConfirmedFrom(managerB, a)), managerB, onB);
            Assert.Equal(0, await onB.InterruptAsync(TimeSpan.FromSeconds(30)));
        }

        Assert.Equal("0", await CountAsync(shared, "SELECT count(*) FROM routed_responses"));

        // The row as it stays when the agent's confirmation never reaches the database (the delivering manager
        // killed before it deletes it): the agent, now on A, gets the response again, answers it, and does not
        // carry it out again (it keeps the (manager, id) of each response it carried out).
        await CountAsync(shared, "INSERT INTO routed_responses SELECT * FROM kept");
        await using (var onA = StartAgent(web2, a))
        {
            await managerA.WaitForOutputAsync($"Active response notify-peer0 sent to agent 002 (routed from manager {ManagerName(a)})", s_flow);
            await WaitForAsync(() => Task.FromResult(ConfirmedFrom(managerA, a)), managerA, onA);
            Assert.Contains("Active response notify-peer0 received from the manager", onA.Output, StringComparison.Ordinal);
        }

        Assert.Equal("0", await CountAsync(shared, "SELECT count(*) FROM routed_responses"));
        Assert.Equal(1, CountCarriedOut(web2));
        Assert.DoesNotContain(a.Alerts().Concat(b.Alerts()), x => TransportFixture.RuleId(x) == "200403");
    }

    // "Agent 002 carried out active response N of manager A" on the manager that delivered it.
    private static bool ConfirmedFrom(VigilProcess manager, ManagerNode origin) => manager.Output.Split('\n').Any(l =>
        l.Contains("Agent 002 carried out active response ", StringComparison.Ordinal) && l.Contains($" of manager {ManagerName(origin)}", StringComparison.Ordinal));

    private static int CountCarriedOut(AgentHome agent) => File.Exists(agent.ActiveResponseLog)
        ? File.ReadAllLines(agent.ActiveResponseLog).Count(l => l.Contains(CarriedOut, StringComparison.Ordinal))
        : 0;

    private static string ManagerName(ManagerNode node) => $"{System.Net.Dns.GetHostName()}:{node.AgentPort}";

    private async Task<string?> LeaseOfAsync(string[] shared, string agent)
    {
        var holder = await postgres.Server.PsqlAsync(DatabaseOf(shared), $"SELECT manager FROM agent_leases WHERE agent_id = '{agent}' AND expires_at > now()");
        return holder.Length == 0 ? null : holder;
    }

    private Task<string> CountAsync(string[] shared, string sql) => postgres.Server.PsqlAsync(DatabaseOf(shared), sql);

    private static string DatabaseOf(string[] shared) => shared[1].Split('/')[^1];

    private async Task<string[]> SharedArgumentsAsync(TransportFixture fixture)
    {
        var name = await postgres.Server.CreateDatabaseAsync();
        var caPassword = Path.Combine(fixture.AgentsRoot, "..", "ca.pass");
        await File.WriteAllTextAsync(caPassword, "ca-secret-for-tests\n");
        return ["--database", postgres.Server.Url(name), "--database-password-file", postgres.Server.PasswordFile, "--ca-password-file", caPassword];
    }

    private static VigilProcess StartAgent(AgentHome agent, ManagerNode manager) => VigilProcess.Start(
        ["agent", "--home", agent.Home, "--data-dir", agent.Data, "--keep-alive", "1", "--manager", manager.AgentEndpoint]);

    private static async Task WaitForAsync(Func<Task<bool>> done, params VigilProcess[] processes)
    {
        var clock = Stopwatch.StartNew();
        while (!await done())
        {
            if (clock.Elapsed > s_flow)
            {
                throw new TimeoutException($"not done within {s_flow}. Output:\n{string.Join("\n----\n", processes.Select(p => p.Output))}");
            }

            await Task.Delay(200);
        }
    }
}
