using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>`vigil manager --database postgres://…`: managers sharing one real PostgreSQL.</summary>
public sealed class MultiManagerTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Manager_Database_CreatesTheSchemaThenFindsIt()
    {
        using var fixture = new TransportFixture();
        var database = await SharedArgumentsAsync(fixture);
        var name = database[1].Split('/')[^1];
        await using (var manager = fixture.StartManager(null, database))
        {
            await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
            Assert.Contains($"vigil: shared database postgres://vigil@127.0.0.1:{postgres.Server.Port}/{name} (schema version 1 created)", manager.Output, StringComparison.Ordinal);
            Assert.Equal(0, await manager.InterruptAsync(TimeSpan.FromSeconds(30)));
        }

        await using (var again = fixture.StartManager(null, database))
        {
            await again.WaitForOutputAsync("vigil: manager ready", s_flow);
            Assert.Contains("(schema version 1)", again.Output, StringComparison.Ordinal);
            Assert.Equal(0, await again.InterruptAsync(TimeSpan.FromSeconds(30)));
        }
    }

    [Fact]
    public async Task Manager_DatabaseOfANewerVigilOrPasswordInUrl_RefusesToStart()
    {
        using var fixture = new TransportFixture();
        var name = await postgres.Server.CreateDatabaseAsync();
        await postgres.Server.PsqlAsync(name, "CREATE TABLE vigil_schema(id integer PRIMARY KEY, version integer NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), updated_by text NOT NULL); INSERT INTO vigil_schema VALUES (1, 99, now(), 'vigil 9.0')");
        var ca = await SharedArgumentsAsync(fixture);
        await using (var manager = fixture.StartManager(null, "--database", postgres.Server.Url(name), "--database-password-file", postgres.Server.PasswordFile, ca[4], ca[5]))
        {
            await WaitForExitAsync(manager);
            Assert.Equal(3, manager.ExitCode);
            Assert.Contains("schema version 99 was written by a newer Vigil", manager.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("manager ready", manager.Output, StringComparison.Ordinal);
        }

        await using (var manager = fixture.StartManager(null, "--database", $"postgres://vigil:{postgres.Server.Password}@127.0.0.1:{postgres.Server.Port}/{name}", ca[4], ca[5]))
        {
            await WaitForExitAsync(manager);
            Assert.Equal(3, manager.ExitCode);
            Assert.Contains("the URL holds a password", manager.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(postgres.Server.Password, manager.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Agent_EnrolledAtA_ConnectsToB_AndRemovedOnOneIsRefusedByBoth()
    {
        using var fixture = new TransportFixture();
        var shared = await SharedArgumentsAsync(fixture);
        var a = fixture.AddManager("manager-a", shared);
        var b = fixture.AddManager("manager-b", shared);
        await using var managerA = a.Start();
        await managerA.WaitForOutputAsync("vigil: manager ready", s_flow);
        await using var managerB = b.Start();
        await managerB.WaitForOutputAsync("vigil: manager ready", s_flow);
        Assert.Contains("created in the shared database", managerA.Output, StringComparison.Ordinal);
        Assert.Contains("loaded from the shared database", managerB.Output, StringComparison.Ordinal);
        Assert.Equal(CaLine(managerA.Output), CaLine(managerB.Output));

        var web1 = await fixture.EnrollAsync("web-01", at: a);
        var web2 = await fixture.EnrollAsync("web-02", at: b);
        var again = await TransportFixture.RunToEndAsync(
            ["enroll", "--manager", $"127.0.0.1:{b.EnrollmentPort}", "--name", "web-01", "--data-dir", Path.Combine(fixture.AgentsRoot, "dup-data")],
            new Dictionary<string, string> { ["VIGIL_ENROLL_PASSWORD"] = TransportFixture.Password });
        Assert.Contains("an agent named 'web-01' is already enrolled", again, StringComparison.Ordinal);

        await using (var agent = StartAgent(web1, b))
        {
            await agent.WaitForOutputAsync("Connected to the manager", s_flow);
            var file = Path.Combine(web1.Watched, "report.txt");
            await File.WriteAllTextAsync(file, "written while on B");
            await WaitForAsync(() => b.Alerts().Any(x => x.ToString().Contains(file, StringComparison.Ordinal)), managerB, agent);
            var alert = b.Alerts().First(x => x.ToString().Contains(file, StringComparison.Ordinal));
            Assert.Equal("001", alert.GetProperty("agent").GetProperty("id").GetString());
            Assert.Equal("web-01", alert.GetProperty("agent").GetProperty("name").GetString());

            var list = await TransportFixture.RunToEndAsync(["agents", "list", "--json", .. shared[..4]]);
            Assert.Contains("\"web-01\"", list, StringComparison.Ordinal);
            Assert.Contains("\"web-02\"", list, StringComparison.Ordinal);
            Assert.Contains("\"002\"", list, StringComparison.Ordinal);

            var removed = await TransportFixture.RunToEndAsync(["agents", "remove", "1", .. shared[..4]]);
            Assert.Contains("agent 001 removed", removed, StringComparison.Ordinal);
            await managerB.WaitForOutputAsync("Agent 001 was removed from the registry; closing its stream", s_flow);
        }

        await using (var agent = StartAgent(web1, a))
        {
            await managerA.WaitForOutputAsync("Refused agent connection from 127.0.0.1: agent 001 was removed", s_flow);
            Assert.DoesNotContain("Connected to the manager", agent.Output, StringComparison.Ordinal);
        }

        await using (var agent = StartAgent(web2, a))
        {
            await agent.WaitForOutputAsync("Connected to the manager", s_flow);
        }
    }

    private async Task<string[]> SharedArgumentsAsync(TransportFixture fixture)
    {
        var name = await postgres.Server.CreateDatabaseAsync();
        var caPassword = Path.Combine(fixture.AgentsRoot, "..", "ca.pass");
        await File.WriteAllTextAsync(caPassword, "ca-secret-for-tests\n");
        return ["--database", postgres.Server.Url(name), "--database-password-file", postgres.Server.PasswordFile, "--ca-password-file", caPassword];
    }

    private static string CaLine(string output) => output.Split('\n').First(l => l.Contains("vigil: CA ", StringComparison.Ordinal)).Split("(sha256 ")[1][..64];

    private static VigilProcess StartAgent(AgentHome agent, ManagerNode manager) => VigilProcess.Start(
        ["agent", "--home", agent.Home, "--data-dir", agent.Data, "--keep-alive", "1", "--manager", manager.AgentEndpoint]);

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

    private static async Task WaitForExitAsync(VigilProcess process)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!process.HasExited)
        {
            Assert.True(clock.Elapsed < s_flow, $"still running:\n{process.Output}");
            await Task.Delay(50);
        }
    }
}
