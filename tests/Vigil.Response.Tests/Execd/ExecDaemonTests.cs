using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Response.Execd;
using Vigil.Response.RemoveThreat;
using Vigil.Response.Tests.RemoveThreat;
using Vigil.Tests.Common;

namespace Vigil.Response.Tests.Execd;

/// <summary>execd with real child processes: the seed's script verbatim, Vigil's remove-threat, hung and misbehaving programs.</summary>
public sealed partial class ExecDaemonTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [GeneratedRegex(@"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d active-response/bin/remove-threat\.sh: (\{.*\}) Successfully removed threat$")]
    private static partial Regex SeedSuccessLine();

    private string Bin => Path.Combine(_sandbox.Home, "active-response", "bin");

    private void InstallSeedScript() => InstallScript("remove-threat.sh", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "remove-threat.sh")));

    private void InstallScript(string name, string text)
    {
        var path = Path.Combine(Bin, name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, (UnixFileMode)0x1E8); // 0750
    }

    private ExecdOptions Options(int timeout = 0, params (string Name, string Executable)[] extra)
    {
        CommandOptions[] commands =
        [
            new() { Name = "remove-threat", Executable = "remove-threat.sh", TimeoutAllowed = timeout > 0 },
            .. extra.Select(e => new CommandOptions { Name = e.Name, Executable = e.Executable, TimeoutAllowed = timeout > 0 }),
        ];
        ActiveResponseOptions[] responses =
        [
            new() { Command = "remove-threat", Location = ActiveResponseLocations.Local, RulesId = ["87105"], TimeoutSeconds = timeout },
            .. extra.Select(e => new ActiveResponseOptions { Command = e.Name, Location = ActiveResponseLocations.Local, TimeoutSeconds = timeout }),
        ];
        return new ExecdOptions { Home = _sandbox.Home, Commands = commands, ActiveResponses = responses, RunTimeLimit = TimeSpan.FromSeconds(20) };
    }

    /// <summary>The AR message as analysisd sends it (spec §5.3): no program yet, origin wazuh-analysisd.</summary>
    private static string ArMessage(string wireName, string path)
    {
        var message = JsonNode.Parse(RemoveThreatHarness.Message(path))!.AsObject();
        message["command"] = wireName;
        message["origin"]!["module"] = "wazuh-analysisd";
        message["parameters"]!.AsObject().Remove("program");
        return message.ToJsonString();
    }

    private ExecDaemon Daemon(ExecdOptions options, TimeProvider? time = null) =>
        new(options, new ActiveResponseLog(_sandbox.LogPath, time ?? TimeProvider.System), time ?? TimeProvider.System);

    private string[] LogLines() => File.Exists(_sandbox.LogPath) ? File.ReadAllLines(_sandbox.LogPath) : [];

    [Fact(Timeout = 60_000)]
    public async Task Execute_SeedScriptVerbatim_RemovesEicarLogsSuccessAndTailerPublishesIt()
    {
        InstallSeedScript();
        var eicar = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "eicar.com"));
        var sink = new ListSink();
        var tailer = new ActiveResponseLogTailer(_sandbox.LogPath, sink, TimeProvider.System, startAtEnd: false);

        var result = await Daemon(Options()).ExecuteAsync(ArMessage("remove-threat0", eicar), CancellationToken.None);

        Assert.Equal(ExecdOutcome.Completed, result.Outcome);
        Assert.Equal("continue", result.Answer);
        Assert.Equal("remove-threat.sh", result.RepeatKey);
        Assert.False(File.Exists(eicar));
        var line = Assert.Single(LogLines());
        var match = SeedSuccessLine().Match(line);
        Assert.True(match.Success, line);
        var logged = JsonNode.Parse(match.Groups[1].Value)!;
        Assert.Equal("add", (string?)logged["command"]);
        Assert.Equal("wazuh-execd", (string?)logged["origin"]!["module"]);
        Assert.Equal("active-response/bin/remove-threat.sh", (string?)logged["parameters"]!["program"]);
        Assert.Equal(eicar, (string?)logged["parameters"]!["alert"]!["data"]!["virustotal"]!["source"]!["file"]);

        Assert.Equal(1, await tailer.PollOnceAsync(CancellationToken.None));
        var published = Assert.Single(sink.Messages);
        Assert.Equal(new EventMessage('1', _sandbox.LogPath, line), published);
    }

    [Theory(Timeout = 600_000)]
    [InlineData(RemoveThreatBuild.InProcess)]
    [InlineData(RemoveThreatBuild.Native)]
    public async Task Execute_VigilRemoveThreatThroughExecd_QuarantinesAndLogsSuccess(RemoveThreatBuild build)
    {
        // Both programs as a child of execd: `vigil remove-threat` through dotnet, and the native build.
        string program;
        if (build == RemoveThreatBuild.Native)
        {
            program = $"'{await PackageBuild.NativeRemoveThreatAsync()}'";
        }
        else
        {
            var vigil = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "Vigil.Cli", "release", "vigil.dll"));
            Assert.True(File.Exists(vigil), vigil);
            program = $"dotnet '{vigil}' remove-threat";
        }

        InstallScript("remove-threat", $"#!/bin/sh\nexec {program} --home '{_sandbox.Home}' --allow '{_sandbox.Monitored}'\n");
        var options = Options() with
        {
            Commands = [new CommandOptions { Name = "vigil-remove-threat", Executable = "remove-threat" }],
            ActiveResponses = [new ActiveResponseOptions { Command = "vigil-remove-threat", Location = ActiveResponseLocations.Local }],
        };
        var eicar = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "a b*"));

        var result = await Daemon(options).ExecuteAsync(ArMessage("vigil-remove-threat0", eicar), CancellationToken.None);

        Assert.Equal(ExecdOutcome.Completed, result.Outcome);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("remove-threat-" + eicar, result.RepeatKey);
        Assert.False(File.Exists(eicar));
        var lines = LogLines();
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d active-response/bin/remove-threat: \{.*\} Successfully removed threat "".*"": quarantined \(id 1\)$", lines[0]);
        Assert.Matches(@"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d active-response/bin/vigil-quarantine: \{.*""command"":""quarantine"".*""id"":1,.*\} File quarantined "".*""$", lines[1]);
        Assert.Single(Directory.GetFiles(Path.Combine(_sandbox.DataDirectory, "vault")));
    }

    [Fact(Timeout = 60_000)]
    public async Task Execute_InProcessRemoveThreat_SameExchangeAndRepeatKey_NoProcess()
    {
        // The script on disk would fail: exit code 0 and the removal show the program ran in process.
        InstallScript("remove-threat", "#!/bin/sh\nexit 99\n");
        var options = Options(timeout: 60, ("vigil-remove-threat", "remove-threat")) with
        {
            InProcess = new Dictionary<string, InProcessProgram>
            {
                ["active-response/bin/remove-threat"] = (input, output, token) =>
                    new RemoveThreatProgram(_sandbox.CreateRemover(_sandbox.DefaultRemoveOptions(), _sandbox.CreateVault()), new ActiveResponseLog(_sandbox.LogPath, TimeProvider.System), _sandbox.DefaultRemoveOptions())
                        .RunAsync(input, output, token),
            },
        };
        var daemon = Daemon(options);
        var eicar = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "eicar.com"));

        var first = await daemon.ExecuteAsync(ArMessage("vigil-remove-threat60", eicar), CancellationToken.None);
        _sandbox.WriteEicar(eicar);
        var repeat = await daemon.ExecuteAsync(ArMessage("vigil-remove-threat60", eicar), CancellationToken.None);

        Assert.Equal((ExecdOutcome.Completed, "continue", 0), (first.Outcome, first.Answer, first.ExitCode));
        Assert.Equal("remove-threat-" + eicar, first.RepeatKey);
        Assert.Equal((ExecdOutcome.Completed, "abort"), (repeat.Outcome, repeat.Answer)); // the timeout list works as for a child
        Assert.True(File.Exists(eicar), "the repeat was aborted, so the rewritten file stays");
        var lines = LogLines();
        Assert.Matches(@"active-response/bin/remove-threat: \{.*\} Successfully removed threat "".*"": quarantined \(id 1\)$", lines[0]);
        Assert.EndsWith("Remove threat active response aborted", lines[^1], StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Execute_InProcessProgramThatHangs_IsCancelledAtTheTimeLimit()
    {
        InstallScript("hang", "#!/bin/sh\nexit 99\n");
        var options = Options(0, ("hang", "hang")) with
        {
            RunTimeLimit = TimeSpan.FromSeconds(2),
            InProcess = new Dictionary<string, InProcessProgram>
            {
                ["active-response/bin/hang"] = async (input, output, token) =>
                {
                    await Task.Delay(Timeout.Infinite, token);
                    return 0;
                },
            },
        };

        var result = await Daemon(options).ExecuteAsync(ArMessage("hang0", "/nowhere"), CancellationToken.None);

        Assert.Equal(ExecdOutcome.Killed, result.Outcome);
        Assert.Contains(LogLines(), l => l.Contains("active-response/bin/hang did not finish within 2 s; cancelled (in process)", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Execute_RepeatWithinTimeout_AnswersAbortAndSeedLogsAborted()
    {
        InstallSeedScript();
        var first = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "one"));
        var second = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "two"));
        var daemon = Daemon(Options(timeout: 600));

        var r1 = await daemon.ExecuteAsync(ArMessage("remove-threat600", first), CancellationToken.None);
        var r2 = await daemon.ExecuteAsync(ArMessage("remove-threat600", second), CancellationToken.None);

        Assert.Equal("continue", r1.Answer);
        Assert.Equal("abort", r2.Answer); // the seed sends empty keys: one rkey for every file (spec §8 item 19)
        Assert.False(File.Exists(first));
        Assert.True(File.Exists(second));
        var lines = LogLines();
        Assert.Equal(2, lines.Length);
        Assert.EndsWith("Successfully removed threat", lines[0]);
        Assert.EndsWith("Remove threat active response aborted", lines[1]);
        Assert.Equal(1, daemon.PendingTimeouts);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunExpiredTimeouts_AfterTimeout_RunsDeleteAndRepeatedOffendersStretchIt()
    {
        InstallScript("recorder.sh", """
            #!/bin/sh
            read line
            printf '%s\n' "$line" >> recorded
            printf '{"version":1,"origin":{"name":"recorder","module":"active-response"},"command":"check_keys","parameters":{"keys":["k"]}}\n'
            read reply
            printf '%s\n' "$reply" >> recorded

            """);
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2024-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var options = Options(timeout: 600, ("recorder", "recorder.sh")) with { RepeatedOffendersMinutes = [1, 5] };
        var daemon = Daemon(options, time);
        var message = ArMessage("recorder600", "/x");

        Assert.Equal("continue", (await daemon.ExecuteAsync(message, CancellationToken.None)).Answer);
        time.Advance(TimeSpan.FromSeconds(599));
        Assert.Equal(0, await daemon.RunExpiredTimeoutsAsync(CancellationToken.None));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await daemon.RunExpiredTimeoutsAsync(CancellationToken.None));

        var recorded = File.ReadAllLines(Path.Combine(_sandbox.Home, "recorded"));
        Assert.Equal(["add", "continue", "delete"], recorded.Where(l => l.Length > 0).Select(l => (string?)JsonNode.Parse(l)!["command"]));

        // Second offence: the first repeated_offenders value, 1 minute.
        Assert.Equal("continue", (await daemon.ExecuteAsync(message, CancellationToken.None)).Answer);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, await daemon.RunExpiredTimeoutsAsync(CancellationToken.None));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await daemon.RunExpiredTimeoutsAsync(CancellationToken.None));
    }

    [Fact(Timeout = 60_000)]
    public async Task RunPendingDeletes_OnShutdown_RunsEveryPendingDelete()
    {
        InstallScript("recorder.sh", """
            #!/bin/sh
            read line
            printf '%s\n' "$line" >> recorded
            printf '{"version":1,"origin":{"name":"recorder","module":"active-response"},"command":"check_keys","parameters":{"keys":[]}}\n'
            read reply

            """);
        var daemon = Daemon(Options(timeout: 600, ("recorder", "recorder.sh")), new FakeTimeProvider());
        await daemon.ExecuteAsync(ArMessage("recorder600", "/x"), CancellationToken.None);
        Assert.Equal(1, daemon.PendingTimeouts);

        await daemon.RunPendingDeletesAsync(CancellationToken.None);

        Assert.Equal(0, daemon.PendingTimeouts);
        Assert.Contains("\"command\":\"delete\"", File.ReadAllLines(Path.Combine(_sandbox.Home, "recorded"))[^1]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Execute_ProgramThatNeverAnswers_IsKilledAtLimitWithoutBlockingOthers()
    {
        InstallSeedScript();
        var marker = "297." + Random.Shared.Next(100000, 999999);
        InstallScript("hang.sh", $"#!/bin/sh\nsleep {marker}\n");
        var eicar = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "eicar.com"));
        var options = Options(0, ("hang", "hang.sh")) with { RunTimeLimit = TimeSpan.FromSeconds(4) };
        var daemon = Daemon(options);

        var hung = daemon.ExecuteAsync(ArMessage("hang0", "/x"), CancellationToken.None);
        var seed = await daemon.ExecuteAsync(ArMessage("remove-threat0", eicar), CancellationToken.None);

        Assert.Equal(ExecdOutcome.Completed, seed.Outcome);
        Assert.False(File.Exists(eicar));
        Assert.False(hung.IsCompleted);
        var killed = await hung;
        Assert.Equal(ExecdOutcome.Killed, killed.Outcome);
        Assert.Contains(LogLines(), l => l.Contains("vigil-execd: active-response/bin/hang.sh did not finish within 4 s; killed its process tree", StringComparison.Ordinal));
        Assert.Contains(LogLines(), l => l.EndsWith("Successfully removed threat", StringComparison.Ordinal));
        await Task.Delay(200);
        Assert.DoesNotContain(Directory.GetDirectories("/proc").Select(d => Path.Combine(d, "cmdline")), f => ReadCmdline(f).Contains(marker, StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Execute_MalformedCheckKeys_AnswersAbortAndLogsProgram()
    {
        InstallScript("garbage.sh", "#!/bin/sh\nread line\necho 'hello, I am not JSON'\nread reply\nprintf '%s\\n' \"$reply\" > reply\n");
        var result = await Daemon(Options(0, ("garbage", "garbage.sh"))).ExecuteAsync(ArMessage("garbage0", "/x"), CancellationToken.None);

        Assert.Equal("abort", result.Answer);
        Assert.Contains("\"command\":\"abort\"", File.ReadAllText(Path.Combine(_sandbox.Home, "reply")));
        Assert.Contains(LogLines(), l => l.Contains("vigil-execd: active-response/bin/garbage.sh: invalid check_keys reply, answered abort: hello", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("!../../../../bin/ls", "Refused")]
    [InlineData("!/bin/ls", "Refused")]
    [InlineData("!..", "Refused")]
    [InlineData("escape0", "Refused")]
    [InlineData("nothing0", "UnknownCommand")]
    [InlineData("!missing.sh", "UnknownCommand")]
    public async Task Execute_NameEscapingBin_IsRefusedAndLogged(string wireName, string expected)
    {
        var options = Options(0, ("escape", "../../../../bin/touch"));
        var result = await Daemon(options).ExecuteAsync(ArMessage(wireName, "/x"), CancellationToken.None);
        Assert.Equal(expected, result.Outcome.ToString());
        Assert.Contains(LogLines(), l => l.Contains("vigil-execd: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Execute_SymlinkInBin_IsRefused()
    {
        File.CreateSymbolicLink(Path.Combine(Bin, "remove-threat.sh"), "/bin/true");
        var result = await Daemon(Options()).ExecuteAsync(ArMessage("remove-threat0", "/x"), CancellationToken.None);
        Assert.Equal(ExecdOutcome.Refused, result.Outcome);
    }

    [Fact]
    public async Task Execute_NotJson_IsInvalidMessage()
    {
        var result = await Daemon(Options()).ExecuteAsync("remove-threat0 - - 1.2 87105", CancellationToken.None);
        Assert.Equal(ExecdOutcome.InvalidMessage, result.Outcome);
    }

    [Fact]
    public void ParseCheckKeys_WazuhShapes_ReturnsKeysOrNull()
    {
        Assert.Equal(["a", "b"], ExecDaemon.ParseCheckKeys("""{"version":1,"origin":{"name":"x","module":"active-response"},"command":"check_keys","parameters":{"keys":["a","b"]}}"""));
        Assert.Empty(ExecDaemon.ParseCheckKeys("""{"version":1,"origin":{},"command":"check_keys", "parameters":{"keys":[]}}""")!);
        Assert.Null(ExecDaemon.ParseCheckKeys("""{"version":"1","origin":{},"command":"check_keys","parameters":{}}"""));
        Assert.Null(ExecDaemon.ParseCheckKeys("""{"version":1,"origin":{},"command":"check_keys","parameters":{"keys":[1]}}"""));
        Assert.Null(ExecDaemon.ParseCheckKeys("not json"));
        Assert.Equal("remove-threat.sh-k1-k2", ExecDaemon.RepeatKey("active-response/bin/remove-threat.sh", ["k1", "k2"]));
    }

    private static string ReadCmdline(string file)
    {
        try
        {
            return File.ReadAllText(file).Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private sealed class ListSink : IEventSink
    {
        public List<EventMessage> Messages { get; } = [];

        public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken)
        {
            lock (Messages)
            {
                Messages.Add(message);
            }

            return ValueTask.CompletedTask;
        }
    }
}
