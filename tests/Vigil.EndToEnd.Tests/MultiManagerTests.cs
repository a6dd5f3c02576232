using Vigil.Tests.Common;
using Vigil.Tests.Common.VirusTotal;

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
            Assert.Contains($"vigil: shared database postgres://vigil@127.0.0.1:{postgres.Server.Port}/{name} (schema version 5 created)", manager.Output, StringComparison.Ordinal);
            Assert.Equal(0, await manager.InterruptAsync(TimeSpan.FromSeconds(30)));
        }

        await using (var again = fixture.StartManager(null, database))
        {
            await again.WaitForOutputAsync("vigil: manager ready", s_flow);
            Assert.Contains("(schema version 5)", again.Output, StringComparison.Ordinal);
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

    [Fact]
    public async Task Agent_ManagerKilledMidBurst_MovesToTheNextWithinTenSeconds_EveryEventOneAlert_EicarDuringTheMoveQuarantined()
    {
        using var fixture = new TransportFixture();
        var shared = await SharedArgumentsAsync(fixture);
        var a = fixture.AddManager("manager-a", shared);
        var b = fixture.AddManager("manager-b", shared);
        var managerA = a.Start();
        try
        {
            await managerA.WaitForOutputAsync("vigil: manager ready", s_flow);
            await using var managerB = b.Start();
            await managerB.WaitForOutputAsync("vigil: manager ready", s_flow);
            var web1 = await fixture.EnrollAsync("web-01", at: a);
            await using var agent = VigilProcess.Start(
                ["agent", "--home", web1.Home, "--data-dir", web1.Data, "--keep-alive", "1", "--manager", $"{a.AgentEndpoint},{b.AgentEndpoint}"]);
            await agent.WaitForOutputAsync($"Connected to the manager at {a.AgentEndpoint}", s_flow);

            // A burst of distinct files; A is killed once it has written alerts for some of them, the burst going on.
            const int Files = 150;
            var files = Enumerable.Range(0, Files).Select(i => Path.Combine(web1.Watched, $"burst-{i:000}.txt")).ToList();
            var writer = Task.Run(async () =>
            {
                foreach (var file in files)
                {
                    await File.WriteAllTextAsync(file, $"event {file}");
                    await Task.Delay(10);
                }
            });
            await WaitForAsync(() => CountFor(a.Alerts(), files) >= 30 || writer.IsCompleted, managerA, agent);
            var killed = System.Diagnostics.Stopwatch.StartNew();
            await managerA.KillAsync();
            var eicar = Path.Combine(web1.Watched, "eicar.com");
            await File.WriteAllBytesAsync(eicar, Core.Eicar.Bytes);
            await agent.WaitForOutputAsync($"Connected to the manager at {b.AgentEndpoint}", s_flow);
            var moved = killed.Elapsed;
            Assert.True(moved < TimeSpan.FromSeconds(10), $"the agent took {moved} to move to B:\n{agent.Output}");
            await writer;

            // A restarts (as systemd would) and cuts what it wrote past its last commit; the agent stays on B.
            await using var restartedA = a.Start();
            await restartedA.WaitForOutputAsync("vigil: manager ready", s_flow);
            await WaitForAsync(() => CountFor([.. a.Alerts(), .. b.Alerts()], files) >= Files, managerB, agent, restartedA);
            await WaitForAsync(() => !File.Exists(eicar) && b.Alerts().Any(x => TransportFixture.RuleId(x) == "100092"), managerB, agent);

            // Give a duplicate the time to show up before counting.
            await Task.Delay(TimeSpan.FromSeconds(2));
            var all = a.Alerts().Concat(b.Alerts()).ToList();
            var duplicated = files.Where(f => all.Count(x => PathOf(x) == f) != 1).ToList();
            Assert.True(duplicated.Count == 0, $"not exactly one alert: {string.Join(", ", duplicated.Select(f => $"{Path.GetFileName(f)}×{all.Count(x => PathOf(x) == f)}"))}");
            Assert.True(CountFor(a.Alerts(), files) > 0, "A handled none of the burst");
            Assert.True(CountFor(b.Alerts(), files) > 0, "B handled none of the burst");
            Assert.Single(b.Alerts(), x => TransportFixture.RuleId(x) == "200100");
            var quarantine = await TransportFixture.RunToEndAsync(["quarantine", "list", "--json", "--home", web1.Home, "--data-dir", web1.Data]);
            Assert.Contains(eicar, quarantine, StringComparison.Ordinal);
            await Console.Out.WriteLineAsync($"failover: agent connected to B {moved.TotalMilliseconds:0} ms after A was killed; A alerted {CountFor(a.Alerts(), files)} of {Files}, B {CountFor(b.Alerts(), files)}");
        }
        finally
        {
            await managerA.DisposeAsync();
        }
    }

    [Fact]
    public async Task Managers_ThreeOnOneKeyWithAFourPerMinuteQuota_NeverExceedItTogether_AndLookEachHashUpOnce()
    {
        await using var emulator = await VirusTotalEmulator.StartAsync();
        using var fixture = new TransportFixture();
        var shared = await SharedArgumentsAsync(fixture);
        var pem = emulator.WriteCertificatePem(Path.Combine(fixture.AgentsRoot, "..", "vt.pem"));
        var nodes = new[] { "a", "b", "c" }.Select(n => fixture.AddManager($"manager-{n}", shared)).ToList();
        foreach (var node in nodes)
        {
            var config = Path.Combine(node.Home, "config", "ossec.conf");
            await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace(
                "<api_key></api_key>",
                $$"""<api_key>test-key</api_key><options>{"base_url": "{{emulator.BaseUrl}}", "trusted_certificate": "{{pem}}", "requests_per_minute": 4}</options>""",
                StringComparison.Ordinal));
        }

        var managers = new List<VigilProcess>();
        var agents = new List<VigilProcess>();
        try
        {
            foreach (var node in nodes)
            {
                managers.Add(node.Start());
            }

            foreach (var manager in managers)
            {
                await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
            }

            var homes = new List<AgentHome>();
            for (var i = 0; i < nodes.Count; i++)
            {
                homes.Add(await fixture.EnrollAsync($"web-{i + 1:00}", at: nodes[i]));
                agents.Add(StartAgent(homes[i], nodes[i]));
            }

            foreach (var agent in agents)
            {
                await agent.WaitForOutputAsync("Connected to the manager", s_flow);
            }

            // The same four files on every agent (so at every manager at once), and two of each agent's own: ten hashes.
            var writes = homes.Select(home => Task.Run(async () =>
            {
                for (var n = 0; n < 4; n++)
                {
                    await File.WriteAllTextAsync(Path.Combine(home.Watched, $"common-{n}.bin"), $"the same content {n}");
                }

                for (var n = 0; n < 2; n++)
                {
                    await File.WriteAllTextAsync(Path.Combine(home.Watched, $"own-{n}.bin"), $"{home.Name} content {n}");
                }
            })).ToList();
            await Task.WhenAll(writes);

            // Past the first minute: the fifth lookup waits for it.
            try
            {
                await WaitForAsync(() => emulator.LookupCount >= 5, [.. managers, .. agents]);
            }
            catch (TimeoutException ex)
            {
                throw new TimeoutException($"{emulator.LookupCount} lookups; alerts at A: {string.Join(",", nodes[0].Alerts().Select(TransportFixture.RuleId))}\n{ex.Message}");
            }

            await Task.Delay(TimeSpan.FromSeconds(3));
            var requests = emulator.Requests;
            Assert.True(emulator.MaxRequestsInAnyMinute("test-key") <= 4, $"the managers together sent {emulator.MaxRequestsInAnyMinute("test-key")} in a minute: {string.Join(", ", requests.Select(r => $"{r.At:HH:mm:ss.fff} {r.Path}"))}");
            var repeated = requests.GroupBy(r => r.Path).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            Assert.True(repeated.Count == 0, $"looked up more than once: {string.Join(", ", repeated)}");
            Assert.All(managers, m => Assert.DoesNotContain("Unhandled", m.Output, StringComparison.Ordinal));
        }
        finally
        {
            foreach (var process in agents.Concat(managers))
            {
                await process.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Manager_DatabaseStoppedAndStartedMidBurst_NothingLostNorDoubled()
    {
        using var fixture = new TransportFixture();
        var shared = await SharedArgumentsAsync(fixture);
        var a = fixture.AddManager("manager-a", shared);
        await using var manager = a.Start();
        await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
        var web1 = await fixture.EnrollAsync("web-01", at: a);
        await using var agent = StartAgent(web1, a);
        await agent.WaitForOutputAsync("Connected to the manager", s_flow);

        const int Files = 120;
        var files = Enumerable.Range(0, Files).Select(i => Path.Combine(web1.Watched, $"burst-{i:000}.txt")).ToList();
        var writer = Task.Run(async () =>
        {
            foreach (var file in files)
            {
                await File.WriteAllTextAsync(file, $"event {file}");
                await Task.Delay(15);
            }
        });
        try
        {
            await WaitForAsync(() => CountFor(a.Alerts(), files) >= 20 || writer.IsCompleted, manager, agent);
            await postgres.Server.StopAsync();
            await manager.WaitForOutputAsync("unavailable", s_flow);
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        finally
        {
            if (!postgres.Server.IsRunning)
            {
                await postgres.Server.StartAgainAsync();
            }
        }

        await writer;
        await WaitForAsync(() => CountFor(a.Alerts(), files) >= Files, manager, agent);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var alerts = a.Alerts();
        var wrong = files.Where(f => alerts.Count(x => PathOf(x) == f) != 1).ToList();
        Assert.True(wrong.Count == 0, $"not exactly one alert: {string.Join(", ", wrong.Select(Path.GetFileName))}");
        Assert.Contains("reachable again after", manager.Output, StringComparison.Ordinal);
        Assert.Contains("Connected to the manager", agent.Output, StringComparison.Ordinal);
    }

    private static string? PathOf(System.Text.Json.JsonElement alert) =>
        alert.TryGetProperty("syscheck", out var syscheck) && syscheck.TryGetProperty("path", out var path) ? path.GetString() : null;

    private static int CountFor(List<System.Text.Json.JsonElement> alerts, List<string> files)
    {
        var set = files.ToHashSet(StringComparer.Ordinal);
        return alerts.Select(PathOf).Where(p => p is not null && set.Contains(p)).Distinct().Count();
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
