namespace Vigil.Fim.Tests.Fanotify;

/// <summary>
/// The guard on a real kernel with real processes, each scenario in a private mount namespace on its own tmpfs
/// (tests/Vigil.Fim.Probe): nothing outside that tmpfs is marked.
/// </summary>
public sealed class FanotifyGuardTests
{
    private const int EPERM = 1;

    [Fact(Timeout = 120_000)]
    public async Task Block_ListedContent_OpenAndExecFailWithEpermWhileCleanWork()
    {
        var probe = await PreventionProbe.RunAsync("block");

        Assert.Equal(0, probe.Check("open-clean").GetProperty("exit").GetInt32());
        Assert.Equal("a clean file\n", probe.Check("open-clean").GetProperty("stdout").GetString());
        var openListed = probe.Check("open-listed");
        Assert.NotEqual(0, openListed.GetProperty("exit").GetInt32());
        Assert.Contains("Operation not permitted", openListed.GetProperty("stderr").GetString());
        Assert.Equal(EPERM, probe.Check("open-listed-direct").GetProperty("errno").GetInt32());
        Assert.Equal(0, probe.Check("exec-clean").GetProperty("exit").GetInt32());
        Assert.Equal(EPERM, probe.Check("exec-listed").GetProperty("errno").GetInt32());
        Assert.Contains("Operation not permitted", probe.Check("exec-listed-sh").GetProperty("stderr").GetString());

        // The denied open names cat, its pid, command line and uid, the hash and the list.
        var catPid = openListed.GetProperty("pid").GetInt32();
        var openAlert = Assert.Single(probe.Alerts, a => a.GetProperty("process").GetProperty("pid").GetInt32() == catPid);
        Assert.Equal("denied", openAlert.GetProperty("event").GetString());
        Assert.Equal("open", openAlert.GetProperty("access").GetString());
        Assert.Equal("deny", openAlert.GetProperty("decision").GetString());
        Assert.EndsWith("/listed.txt", openAlert.GetProperty("file").GetString());
        Assert.Equal(64, openAlert.GetProperty("sha256").GetString()!.Length);
        Assert.Equal("list.sha256", openAlert.GetProperty("source").GetString());
        Assert.Equal("/usr/bin/cat", openAlert.GetProperty("process").GetProperty("exe").GetString());
        Assert.Contains("listed.txt", openAlert.GetProperty("process").GetProperty("cmdline").GetString());
        Assert.Equal(0, openAlert.GetProperty("process").GetProperty("uid").GetInt32());

        // The copy of /bin/true is refused at exec, and the alert names the shell that tried to run it.
        var shPid = probe.Check("exec-listed-sh").GetProperty("pid").GetInt32();
        var execAlert = Assert.Single(probe.Alerts, a => a.GetProperty("process").GetProperty("pid").GetInt32() == shPid);
        Assert.Equal("exec", execAlert.GetProperty("access").GetString());
        Assert.EndsWith("/bin/true-listed", execAlert.GetProperty("file").GetString());
        Assert.Equal("/usr/bin/dash", execAlert.GetProperty("process").GetProperty("exe").GetString());
        Assert.Contains("true-listed", execAlert.GetProperty("process").GetProperty("cmdline").GetString());
        Assert.All(probe.Alerts, a => Assert.Equal("denied", a.GetProperty("event").GetString()));
        Assert.Equal(0, probe.Statistics.GetProperty("DeadlineHits").GetInt64());
    }

    [Fact(Timeout = 120_000)]
    public async Task Audit_ListedContent_AllowedAndReported()
    {
        var probe = await PreventionProbe.RunAsync("audit");

        Assert.Equal(0, probe.Check("open-listed").GetProperty("exit").GetInt32());
        Assert.Equal(0, probe.Check("open-listed-direct").GetProperty("errno").GetInt32());
        Assert.Equal(0, probe.Check("exec-listed").GetProperty("exit").GetInt32());
        Assert.Equal(0, probe.Check("exec-listed-sh").GetProperty("exit").GetInt32());
        var alerts = probe.Alerts.ToList();
        Assert.NotEmpty(alerts);
        Assert.All(alerts, a =>
        {
            Assert.Equal("would_deny", a.GetProperty("event").GetString());
            Assert.Equal("allow", a.GetProperty("decision").GetString());
            Assert.Equal("audit", a.GetProperty("mode").GetString());
        });
        var catPid = probe.Check("open-listed").GetProperty("pid").GetInt32();
        Assert.Contains(alerts, a => a.GetProperty("process").GetProperty("pid").GetInt32() == catPid && a.GetProperty("access").GetString() == "open");
        // Each allowed execution is one alert (the open the kernel raises after the exec is not a second one).
        var execs = alerts.Where(a => a.GetProperty("file").GetString()!.EndsWith("/bin/true-listed", StringComparison.Ordinal)).ToList();
        Assert.Equal(["exec", "exec"], execs.Select(a => a.GetProperty("access").GetString()));
        Assert.Equal(0, probe.Statistics.GetProperty("Denied").GetInt64());
    }

    [Theory(Timeout = 120_000)]
    [InlineData("deny")]
    [InlineData("allow")]
    public async Task HoldUnknownExec_SlowEngine_DeadlineAppliesThePolicy(string policy)
    {
        var probe = await PreventionProbe.RunAsync("deadline-" + policy);

        // The engine takes 3 s; the deadline is 150 ms and answers with the policy.
        var exec = probe.Check("exec-unknown");
        var milliseconds = exec.GetProperty("ms").GetDouble();
        Assert.InRange(milliseconds, 140, 2_500);
        if (policy == "deny")
        {
            Assert.Equal(EPERM, exec.GetProperty("errno").GetInt32());
        }
        else
        {
            Assert.Equal(0, exec.GetProperty("exit").GetInt32());
        }

        var alert = Assert.Single(probe.Alerts, a => a.GetProperty("event").GetString() == "deadline" && a.TryGetProperty("file", out _));
        Assert.Equal(policy, alert.GetProperty("decision").GetString());
        Assert.Equal("exec", alert.GetProperty("access").GetString());
        Assert.True(probe.Statistics.GetProperty("DeadlineHits").GetInt64() >= 1);
    }

    [Fact(Timeout = 120_000)]
    public async Task GuardKilled_DuringAFloodOfHeldOpens_ReleasesEveryOpener()
    {
        var probe = await PreventionProbe.RunAsync("flood-kill");

        var flood = probe.Check("flood-kill");
        Assert.True(flood.GetProperty("holding").GetBoolean(), probe.Output);
        // 16 cats were held (a verdict takes 60 s, the deadline is 120 s) when the guard got SIGKILL ...
        Assert.Equal(16, flood.GetProperty("held").GetInt32());
        // ... and every one finished, its open allowed, within the bound.
        Assert.Equal(16, flood.GetProperty("exited").GetInt32());
        Assert.Equal(0, flood.GetProperty("failed").GetInt32());
        Assert.True(flood.GetProperty("released_ms").GetDouble() < 10_000);
        Assert.Equal(32, flood.GetProperty("after_ok").GetInt32());
    }

    [Fact(Timeout = 120_000)]
    public async Task GuardReadsAMarkedFileByPath_WhileDeciding_DoesNotDeadlock()
    {
        var probe = await PreventionProbe.RunAsync("self-read");

        // One worker and a 10 s deadline: had its own open waited on itself, cat would take 10 s.
        var open = probe.Check("open-while-self-read");
        Assert.Equal(0, open.GetProperty("exit").GetInt32());
        Assert.True(open.GetProperty("ms").GetDouble() < 5_000, probe.Output);
        Assert.Contains(probe.Lines, l => l.TryGetProperty("self_read", out var bytes) && bytes.GetInt32() > 0);
        Assert.Equal(0, probe.Statistics.GetProperty("DeadlineHits").GetInt64());
        Assert.True(probe.Statistics.GetProperty("Excluded").GetInt64() >= 1);
    }

    [Fact(Timeout = 120_000)]
    public async Task QueueFull_FurtherOpensAreAllowedAtOnceAndAnOverloadAlertCountsThem()
    {
        var probe = await PreventionProbe.RunAsync("overload");

        var overload = probe.Check("overload");
        Assert.True(overload.GetProperty("holding").GetBoolean(), probe.Output);
        Assert.True(overload.GetProperty("held_running").GetBoolean(), probe.Output);
        // The worker is held for 20 s and the deadline is 60 s: only the full queue's allow explains these.
        Assert.Equal(6, overload.GetProperty("allowed").GetInt32());
        Assert.Equal(1, overload.GetProperty("still_waiting").GetInt32());
        Assert.True(overload.GetProperty("max_ms").GetDouble() < 5_000, probe.Output);
        var alert = Assert.Single(probe.Alerts, a => a.GetProperty("event").GetString() == "overload");
        Assert.Equal("allow", alert.GetProperty("decision").GetString());
        Assert.True(alert.GetProperty("count").GetInt64() >= 6 || probe.Statistics.GetProperty("Overloaded").GetInt64() >= 6, probe.Output);
    }

    [Fact(Timeout = 120_000)]
    public async Task CleanVerdict_OpenedAgainWithoutAnEvent_UntilTheContentChanges()
    {
        var probe = await PreventionProbe.RunAsync("clean-then-listed");

        Assert.Equal(0, probe.Check("clean-first").GetProperty("exit").GetInt32());
        Assert.Equal(0, probe.Check("clean-again").GetProperty("exit").GetInt32());
        // Rewritten in place with listed content: the kernel dropped the ignore mask, and the open is refused.
        var listed = probe.Check("listed-now");
        Assert.NotEqual(0, listed.GetProperty("exit").GetInt32());
        Assert.Contains("Operation not permitted", listed.GetProperty("stderr").GetString());
        // Only the first and the last cat raised an event: the second one and the rewrite's own open (before its
        // write cleared the mask) went through on the ignore mask.
        Assert.Equal(2, probe.Statistics.GetProperty("Events").GetInt64());
    }

    [Theory(Timeout = 120_000)]
    [InlineData("dispatch")]
    [InlineData("work")]
    public async Task GuardThreadDies_WhileOpensAreHeld_FailsOpenReleasingEveryOpenerAndSaysSo(string stage)
    {
        var probe = await PreventionProbe.RunAsync("dies-" + stage);

        var dies = probe.Check("thread-dies");
        Assert.True(dies.GetProperty("holding").GetBoolean(), probe.Output);
        // Verdicts take 60 s and the deadline is 120 s: these openers were held when the thread died ...
        Assert.Equal(stage == "dispatch" ? 6 : 1, dies.GetProperty("held").GetInt32());
        // ... and every one of them, and the open that killed the thread, finished, allowed, within the bound.
        Assert.Equal(stage == "dispatch" ? 7 : 2, dies.GetProperty("exited").GetInt32());
        Assert.Equal(0, dies.GetProperty("failed").GetInt32());
        Assert.True(dies.GetProperty("released_ms").GetDouble() < 5_000, probe.Output);
        // Later opens go through at once (listed content too: prevention stopped), and the process lives on.
        Assert.True(dies.GetProperty("stopped").GetBoolean(), probe.Output);
        Assert.Equal(17, dies.GetProperty("after_ok").GetInt32());
        Assert.True(dies.GetProperty("after_max_ms").GetDouble() < 5_000, probe.Output);
        Assert.True(dies.GetProperty("guard_alive").GetBoolean());
        var alert = Assert.Single(probe.Alerts, a => a.GetProperty("event").GetString() == "stopped");
        Assert.Equal("allow", alert.GetProperty("decision").GetString());
        Assert.Contains(stage == "dispatch" ? "vigil-fanotify-read" : "vigil-fanotify-work", alert.GetProperty("detail").GetString());
        Assert.Contains("injected fault", alert.GetProperty("detail").GetString());
        Assert.Contains(probe.Lines, l => l.TryGetProperty("log", out var log) && log.GetString()!.StartsWith("prevention stopped: ", StringComparison.Ordinal));
        Assert.True(probe.Statistics.GetProperty("IsStopped").GetBoolean());
    }

    [Fact(Timeout = 120_000)]
    public async Task DecisionThrows_ForOneFile_ThatAccessGetsThePolicyAndTheGuardGoesOn()
    {
        var probe = await PreventionProbe.RunAsync("decide-error");

        // on_timeout deny, deadline 60 s: the failed decision is answered at once with deny.
        var failed = probe.Check("error-open");
        Assert.NotEqual(0, failed.GetProperty("exit").GetInt32());
        Assert.Contains("Operation not permitted", failed.GetProperty("stderr").GetString());
        Assert.True(failed.GetProperty("ms").GetDouble() < 5_000, probe.Output);
        // The one worker goes on: a clean file opens, listed content is still refused, and the same fault again is one more error.
        Assert.Equal(0, probe.Check("clean-after").GetProperty("exit").GetInt32());
        Assert.Contains("Operation not permitted", probe.Check("listed-after").GetProperty("stderr").GetString());
        Assert.NotEqual(0, probe.Check("error-again").GetProperty("exit").GetInt32());
        var errors = probe.Alerts.Where(a => a.GetProperty("event").GetString() == "error").ToList();
        Assert.Equal(2, errors.Count);
        Assert.All(errors, a =>
        {
            Assert.Equal("deny", a.GetProperty("decision").GetString());
            Assert.EndsWith("/die.txt", a.GetProperty("file").GetString());
            Assert.Equal("/usr/bin/cat", a.GetProperty("process").GetProperty("exe").GetString());
        });
        Assert.Equal(2, probe.Statistics.GetProperty("Errors").GetInt64());
        Assert.Equal(0, probe.Statistics.GetProperty("DeadlineHits").GetInt64());
        Assert.False(probe.Statistics.GetProperty("IsStopped").GetBoolean());
        Assert.DoesNotContain(probe.Alerts, a => a.GetProperty("event").GetString() == "stopped");
    }

    [Fact(Timeout = 120_000)]
    public async Task HoldUnknownExec_WithYara_AMatchedBinaryIsRefusedAtExecAndAnUnmatchedOneRuns()
    {
        var probe = await PreventionProbe.RunAsync("yara-hold");

        // A copy of /bin/true with the marker appended: no list names it, the real libyara rule does.
        Assert.Equal(EPERM, probe.Check("exec-marked").GetProperty("errno").GetInt32());
        Assert.Equal(0, probe.Check("exec-unmatched").GetProperty("exit").GetInt32());
        Assert.Equal(0, probe.Check("exec-unmatched-again").GetProperty("exit").GetInt32());
        Assert.Equal(EPERM, probe.Check("exec-listed").GetProperty("errno").GetInt32());
        var alert = Assert.Single(probe.Alerts, a => a.GetProperty("file").GetString()!.EndsWith("/bin/true-marked", StringComparison.Ordinal));
        Assert.Equal("denied", alert.GetProperty("event").GetString());
        Assert.Equal("exec", alert.GetProperty("access").GetString());
        Assert.Equal("yara", alert.GetProperty("source").GetString());
        Assert.Equal("Vigil_Probe_Marker", alert.GetProperty("threat").GetString());
        Assert.Equal(0, probe.Statistics.GetProperty("DeadlineHits").GetInt64());
    }
}
