using Vigil.Core;

namespace Vigil.EndToEnd.Tests;

/// <summary>`vigil manager`, `vigil enroll`, `vigil agent` and `vigil agents` as real processes on 127.0.0.1 over mutual TLS.</summary>
public sealed class ManagerAgentTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Manager_EicarOnAgent2_QuarantinedOnAgent2OnlyAndAlertsCarryItsIdentity()
    {
        using var fixture = new TransportFixture();
        await using var manager = fixture.StartManager();
        await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
        var web1 = await fixture.EnrollAsync("web-01");
        var web2 = await fixture.EnrollAsync("web-02");
        await using var agent1 = TransportFixture.StartAgent(web1);
        await using var agent2 = TransportFixture.StartAgent(web2);
        await agent1.WaitForOutputAsync("Connected to the manager", s_flow);
        await agent2.WaitForOutputAsync("Connected to the manager", s_flow);

        var benign = Path.Combine(web1.Watched, "notes.txt");
        await File.WriteAllTextAsync(benign, "nothing to see");
        var eicar = Path.Combine(web2.Watched, "eicar.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);

        await fixture.WaitForAlertsAsync(
            alerts => alerts.Any(a => TransportFixture.RuleId(a) == "100092") && alerts.Any(a => TransportFixture.RuleId(a) == "200100"),
            s_flow, manager, agent1, agent2);
        Assert.False(File.Exists(eicar));
        Assert.True(File.Exists(benign));
        Assert.False(File.Exists(web1.ActiveResponseLog) && new FileInfo(web1.ActiveResponseLog).Length > 0, "agent 1 ran a response");
        Assert.Contains(eicar, await File.ReadAllTextAsync(web2.ActiveResponseLog), StringComparison.Ordinal);

        var detection = fixture.Alerts().Single(a => TransportFixture.RuleId(a) == "200100");
        Assert.Equal("002", detection.GetProperty("agent").GetProperty("id").GetString());
        Assert.Equal("web-02", detection.GetProperty("agent").GetProperty("name").GetString());
        var removal = fixture.Alerts().First(a => TransportFixture.RuleId(a) == "100092");
        Assert.Equal("002", removal.GetProperty("agent").GetProperty("id").GetString());
        var benignAlert = fixture.Alerts().First(a => a.ToString().Contains(benign, StringComparison.Ordinal));
        Assert.Equal("001", benignAlert.GetProperty("agent").GetProperty("id").GetString());

        var quarantine = await TransportFixture.RunToEndAsync(["quarantine", "list", "--json", "--home", web2.Home, "--data-dir", web2.Data]);
        Assert.Contains(eicar, quarantine, StringComparison.Ordinal);

        var agentExit = await agent1.InterruptAsync(TimeSpan.FromSeconds(30));
        Assert.True(agentExit == 0, $"agent 1 exited with {agentExit}:\n{agent1.Output}");
        await fixture.WaitForAlertsAsync(alerts => alerts.Any(a => TransportFixture.RuleId(a) == "200400"), s_flow, manager);
        var managerExit = await manager.InterruptAsync(TimeSpan.FromSeconds(30));
        Assert.True(managerExit == 0, $"the manager exited with {managerExit}:\n{manager.Output}");
    }

    [Fact]
    public async Task Manager_RemovedAgentAndWrongPassword_AreRefused()
    {
        using var fixture = new TransportFixture();
        await using var manager = fixture.StartManager();
        await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
        var web1 = await fixture.EnrollAsync("web-01");

        var list = await TransportFixture.RunToEndAsync(["agents", "list", "--data-dir", fixture.ManagerData]);
        Assert.Contains("web-01", list, StringComparison.Ordinal);
        var removed = await TransportFixture.RunToEndAsync(["agents", "remove", "001", "--data-dir", fixture.ManagerData]);
        Assert.Contains("agent 001 removed", removed, StringComparison.Ordinal);

        await using var agent = TransportFixture.StartAgent(web1);
        await manager.WaitForOutputAsync("Refused agent connection from 127.0.0.1: agent 001 was removed", s_flow);
        await agent.WaitForOutputAsync("PermissionDenied", s_flow);
        Assert.DoesNotContain("Connected to the manager", agent.Output, StringComparison.Ordinal);

        var wrong = await TransportFixture.RunToEndAsync(
            ["enroll", "--manager", $"127.0.0.1:{fixture.EnrollmentPort}", "--name", "intruder", "--data-dir", Path.Combine(fixture.AgentsRoot, "intruder-data")],
            new Dictionary<string, string> { ["VIGIL_ENROLL_PASSWORD"] = "guess" });
        Assert.Contains("invalid password", wrong, StringComparison.Ordinal);
        await manager.WaitForOutputAsync("Refused enrollment from 127.0.0.1", s_flow);
    }

    [Fact]
    public async Task Agent_ImpostorManagerOnItsManagersAddress_IsRefusedAtTlsAndLogged()
    {
        using var fixture = new TransportFixture();
        var web1 = default(AgentHome);
        await using (var manager = fixture.StartManager())
        {
            await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
            web1 = await fixture.EnrollAsync("web-01");
            await manager.InterruptAsync(TimeSpan.FromSeconds(30));
        }

        // A manager with another CA on the very port the agent enrolled to: it would route remove-threat on 200100.
        await using var impostor = fixture.StartImpostorManager();
        await impostor.WaitForOutputAsync("vigil: manager ready", s_flow);
        await using var agent = TransportFixture.StartAgent(web1);
        await agent.WaitForOutputAsync($"Refused the manager at 127.0.0.1:{fixture.AgentPort}: its certificate CN=", s_flow);
        Assert.Contains("is not issued by the pinned manager CA", agent.Output, StringComparison.Ordinal);

        var eicar = Path.Combine(web1.Watched, "eicar.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.DoesNotContain("Connected to the manager", agent.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Agent connected", impostor.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Active response", agent.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(eicar), "a command reached the agent from the impostor");
    }

    [Fact]
    public async Task Agent_CommandNotConfiguredOnTheAgent_IsRefusedByExecdAndLoggedAndNothingRuns()
    {
        // The manager routes `evil` on every added file; the agent has no such <command>, only a program of that name.
        using var fixture = new TransportFixture("""
            <command><name>evil</name><executable>evil.sh</executable><timeout_allowed>no</timeout_allowed></command>
            <active-response><disabled>no</disabled><command>evil</command><location>local</location><rules_id>100201</rules_id></active-response>
            """);
        await using var manager = fixture.StartManager();
        await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
        var web1 = await fixture.EnrollAsync("web-01");
        var marker = Path.Combine(fixture.AgentsRoot, "evil-ran");
        var evil = Path.Combine(web1.Home, "active-response", "bin", "evil.sh");
        await File.WriteAllTextAsync(evil, $"#!/bin/sh\ntouch '{marker}'\n");
        File.SetUnixFileMode(evil, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var agent = TransportFixture.StartAgent(web1);
        await agent.WaitForOutputAsync("Connected to the manager", s_flow);

        await File.WriteAllTextAsync(Path.Combine(web1.Watched, "new.txt"), "hello");
        await manager.WaitForOutputAsync("Active response evil0 sent to agent 001", s_flow);
        await agent.WaitForOutputAsync("Active response from the manager not run (UnknownCommand): unknown active response evil0", s_flow);
        Assert.Contains("Active response evil0 received from the manager", agent.Output, StringComparison.Ordinal);
        Assert.Contains("vigil-execd: unknown active response evil0", await File.ReadAllTextAsync(web1.ActiveResponseLog), StringComparison.Ordinal);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(File.Exists(marker), "the unconfigured program ran");
    }

    // Issue 13, "one live session per agent": a response for an agent that is not connected waited for nothing and
    // was dropped ("not delivered: the agent is not connected"); now it waits in the agent's durable outbox, across a
    // manager restart, is carried out when the agent connects and confirmed; one never delivered raises 200403.
    [Fact]
    public async Task Manager_ResponseForADisconnectedAgent_WaitsInItsOutboxAndIsDeliveredOrAlertedAtItsDeadline()
    {
        using var fixture = new TransportFixture("""
            <command><name>evil</name><executable>evil.sh</executable><timeout_allowed>no</timeout_allowed></command>
            <active-response><disabled>no</disabled><command>evil</command><location>defined-agent</location><agent_id>002</agent_id><rules_id>100201</rules_id></active-response>
            <active-response><disabled>no</disabled><command>evil</command><location>defined-agent</location><agent_id>009</agent_id><rules_id>100201</rules_id></active-response>
            """);
        var manager = fixture.StartManager(null, "--response-deadline", "45");
        try
        {
            await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
            var web1 = await fixture.EnrollAsync("web-01");
            var web2 = await fixture.EnrollAsync("web-02");
            await using var agent1 = TransportFixture.StartAgent(web1);
            await agent1.WaitForOutputAsync("Connected to the manager", s_flow);
            await File.WriteAllTextAsync(Path.Combine(web1.Watched, "new.txt"), "hello");
            await manager.WaitForOutputAsync("Active response evil0 for agent 002 queued in its outbox until it connects", s_flow);

            // Still there after a manager restart.
            await manager.InterruptAsync(TimeSpan.FromSeconds(30));
            await manager.DisposeAsync();
            manager = fixture.StartManager(null, "--response-deadline", "45");
            await manager.WaitForOutputAsync("vigil: manager ready", s_flow);

            await using var agent2 = TransportFixture.StartAgent(web2);
            await agent2.WaitForOutputAsync("Active response evil0 received from the manager", s_flow);
            await manager.WaitForOutputAsync("Agent 002 carried out active response", s_flow);

            // Agent 009 does not exist: at the deadline, one alert says the response was not delivered.
            await fixture.WaitForAlertsAsync(alerts => alerts.Any(a => TransportFixture.RuleId(a) == "200403"), TimeSpan.FromSeconds(120), manager);
            var notDelivered = Assert.Single(fixture.Alerts(), a => TransportFixture.RuleId(a) == "200403");
            Assert.Contains("evil0 for agent 009 within 45 s (the agent did not connect)", notDelivered.GetProperty("full_log").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain(fixture.Alerts(), a => TransportFixture.RuleId(a) == "200403" && a.GetProperty("full_log").GetString()!.Contains("agent 002", StringComparison.Ordinal));
        }
        finally
        {
            await manager.DisposeAsync();
        }
    }

    [Fact]
    public async Task Manager_KilledAndRestartedDuringBurstOf10000Events_EveryEventAlertedExactlyOnce()
    {
        const int Files = 10_000;
        using var fixture = new TransportFixture();
        var manager = fixture.StartManager();
        try
        {
            await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
            var web1 = await fixture.EnrollAsync("web-01");
            await using var agent = TransportFixture.StartAgent(web1);
            await agent.WaitForOutputAsync("Connected to the manager", s_flow);

            // Written as fast as the disk takes them; the manager is killed once alerts are flowing, mid-batch.
            var writer = Task.Run(async () =>
            {
                for (var i = 0; i < Files; i++)
                {
                    await File.WriteAllTextAsync(Path.Combine(web1.Watched, $"file-{i:D5}.txt"), $"content {i}");
                }
            });
            await fixture.WaitForAlertsAsync(alerts => Added(alerts).Count >= Files / 10, s_flow, manager, agent);
            await manager.KillAsync();
            await manager.DisposeAsync();
            var killedAt = Added(fixture.Alerts()).Count;
            await writer;
            manager = fixture.StartManager();

            await fixture.WaitForAlertsAsync(alerts => Added(alerts).Distinct().Count() >= Files, TimeSpan.FromMinutes(3), manager, agent);
            await Task.Delay(TimeSpan.FromSeconds(2)); // Any duplicate would land now.
            var added = Added(fixture.Alerts());
            var duplicates = added.GroupBy(p => p, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"{g.Key} x{g.Count()}").ToList();
            Assert.True(duplicates.Count == 0, $"{duplicates.Count} paths alerted more than once (killed at {killedAt} alerts): {string.Join(", ", duplicates.Take(10))}");
            Assert.Equal(Files, added.Count);
            Assert.True(killedAt < Files, $"the manager was killed after the burst ({killedAt} alerts), not during it");
        }
        finally
        {
            await manager.DisposeAsync();
        }
    }

    [Fact]
    public async Task Manager_CrashAfterAlertsWrittenBeforeTheirBatchCommitted_ReplayGivesOneAlert()
    {
        using var fixture = new TransportFixture();
        AgentHome web1;
        await using (var manager = fixture.StartManager())
        {
            await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
            web1 = await fixture.EnrollAsync("web-01");
            Assert.Equal(0, await manager.InterruptAsync(TimeSpan.FromSeconds(30)));
        }

        // The agent queues an event while the manager is down.
        var path = Path.Combine(web1.Watched, "replayed.txt");
        await using (var agent = TransportFixture.StartAgent(web1))
        {
            await agent.WaitForOutputAsync("vigil: agent ready", s_flow);
            await File.WriteAllTextAsync(path, "replayed");
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(0, await agent.InterruptAsync(TimeSpan.FromSeconds(30)));
        }

        // The manager's state after a crash between the alert's fsync and its batch's commit: the alert is in
        // alerts.json, the agent's watermark is not, so the agent will send the event again.
        await File.AppendAllTextAsync(fixture.AlertsJson,
            $$"""{"rule":{"id":"100201"},"agent":{"id":"001"},"syscheck":{"path":"{{path}}","event":"added"},"crashed":true}""" + "\n");
        await using var restarted = fixture.StartManager();
        await restarted.WaitForOutputAsync("vigil: manager ready", s_flow);
        await using var again = TransportFixture.StartAgent(web1);
        await again.WaitForOutputAsync("Connected to the manager", s_flow);
        static bool Forged(System.Text.Json.JsonElement alert) => alert.TryGetProperty("crashed", out _);
        await fixture.WaitForAlertsAsync(alerts => alerts.Any(a => !Forged(a) && a.ToString().Contains(path, StringComparison.Ordinal)), s_flow, restarted, again);
        await Task.Delay(TimeSpan.FromSeconds(2)); // Any duplicate would land now.
        Assert.DoesNotContain(fixture.Alerts(), Forged);
        Assert.Single(Added(fixture.Alerts()), path);
    }

    private static List<string> Added(List<System.Text.Json.JsonElement> alerts) =>
        [.. alerts.Where(a => a.TryGetProperty("syscheck", out var s) && s.GetProperty("event").GetString() == "added").Select(a => a.GetProperty("syscheck").GetProperty("path").GetString()!)];
}
