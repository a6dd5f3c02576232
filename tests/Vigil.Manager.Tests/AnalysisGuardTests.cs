using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Analysis.Decoding;
using Vigil.Cli;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;
using Vigil.Hosting;
using Vigil.Tests.Common;

namespace Vigil.Manager.Tests;

/// <summary>Per-event isolation: whatever one event makes a stage throw, it is a dead letter and a 200500 alert, and the next event is analysed.</summary>
public sealed class AnalysisGuardTests : IDisposable
{
    private static readonly string s_config = RepositoryPaths.Get("config", "ossec.conf");
    private readonly TempDirectory _temp = new("vigil-guard");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero));

    // A decoder with a bug: it throws on one kind of event. Any exception type must do.
    private sealed class FaultyDecoder(Exception error) : IDecoder
    {
        public IReadOnlyList<string> Names { get; } = ["faulty"];

        public bool TryDecode(AnalysisEvent analysisEvent) =>
            analysisEvent.Log.Contains("poison", StringComparison.Ordinal) ? throw error : false;
    }

    private (AnalysisGuard Guard, DeadLetterStore Store, List<string> Log, StageMonitor Stages) Create(Exception error)
    {
        var (config, rules, diagnostics) = ConfigLoading.Load(s_config, null);
        Assert.False(ConfigLoading.HasErrors(diagnostics));
        var decoders = new DecoderSet([new FaultyDecoder(error), .. DecoderSet.BuiltIn.All]);
        var pipeline = new AnalysisPipeline(config, rules, decoders, AlertFileWriter.Detached(), new AlertContext("manager", null, null), _time);
        var store = new DeadLetterStore(_temp.Combine("deadletter.db"), _time);
        var log = new List<string>();
        var stages = new StageMonitor(_time);
        return (new AnalysisGuard(pipeline, store, stages.Register("analysis"), log.Add), store, log, stages);
    }

    [Theory]
    [InlineData(typeof(InvalidOperationException))]
    [InlineData(typeof(NullReferenceException))]
    [InlineData(typeof(IndexOutOfRangeException))]
    [InlineData(typeof(OutOfMemoryException))]
    public void Process_EventThatThrows_IsADeadLetterAndA200500AlertAndTheNextEventIsAnalysed(Type errorType)
    {
        var (guard, store, log, stages) = Create((Exception)Activator.CreateInstance(errorType, "boom in the decoder")!);
        var agent = new AgentIdentity("001", "web-01", "10.0.0.5");
        var bad = new EventMessage('8', EventMessage.AgentLocation(agent, "syscheck"), EventMutator.Fim("/root/poison.bin"));

        var result = guard.Process(bad, sequence: 42);
        var next = guard.Process(new EventMessage('8', EventMessage.AgentLocation(agent, "syscheck"), EventMutator.Fim("/root/fine.bin")));

        var alert = JsonDocument.Parse(result.AlertJson!).RootElement;
        Assert.Equal("200500", alert.GetProperty("rule").GetProperty("id").GetString());
        Assert.Equal(
            $"Vigil: event could not be analysed: agent 001 (web-01), location syscheck, analysis: {errorType.Name}: boom in the decoder",
            alert.GetProperty("rule").GetProperty("description").GetString());
        Assert.Equal("001", alert.GetProperty("agent").GetProperty("id").GetString());
        Assert.True(result.IsWritten);

        var letter = Assert.Single(store.List(10));
        Assert.Equal(("analysis", "001", "web-01", "syscheck", 42UL), (letter.Stage, letter.AgentId, letter.AgentName, letter.Location, letter.Sequence));
        Assert.Equal(bad.ToString(), letter.Event);
        Assert.Contains("boom in the decoder", letter.Detail, StringComparison.Ordinal);
        Assert.Equal($"{letter.Id}", alert.GetProperty("data").GetProperty("vigil").GetProperty("dead_letter").GetProperty("id").GetString());
        Assert.Contains(log, l => l.Contains("could not be handled by analysis", StringComparison.Ordinal) && l.Contains($"dead letter {letter.Id}", StringComparison.Ordinal));

        Assert.Equal("100201", JsonDocument.Parse(next.AlertJson!).RootElement.GetProperty("rule").GetProperty("id").GetString());
        var stage = Assert.Single(stages.Snapshot());
        Assert.Equal(("ok", 2L, 1L), (stage.Status, stage.Processed, stage.Failed));
    }

    // An invalid event (docs/text.md) is a dead letter of stage "decoding" with its 200500 alert; the stage worked, so
    // it counts no failure. Before, a queue-8 message that is not a FIM message went to the json decoder, unnoticed.
    [Theory]
    [InlineData('8', "syscheck", """{"type":"event","data":{"path":"/root/a""", "not a FIM message: invalid JSON")]
    [InlineData('8', "syscheck", """{"type":"event","data":{"path":"/root/a","type":"renamed"}}""", "not a FIM message: unknown event type")]
    [InlineData('1', "virustotal", """{"virustotal":{"found":1},"integration":"virustotal"} trailing""", "not a result of integration virustotal")]
    public void Process_InvalidEvent_IsADeadLetterOfDecodingWithA200500Alert(char queue, string location, string message, string reason)
    {
        var (guard, store, _, stages) = Create(new InvalidOperationException("unused"));
        var agent = new AgentIdentity("001", "web-01", "10.0.0.5");

        var result = guard.Process(new EventMessage(queue, EventMessage.AgentLocation(agent, location), message), sequence: 9);

        Assert.Equal("200500", JsonDocument.Parse(result.AlertJson!).RootElement.GetProperty("rule").GetProperty("id").GetString());
        var letter = Assert.Single(store.List(10));
        Assert.Equal(("decoding", 9UL), (letter.Stage, letter.Sequence));
        Assert.Contains(reason, letter.Reason, StringComparison.Ordinal);
        Assert.Equal(0L, Assert.Single(stages.Snapshot()).Failed);
    }

    // A failure after a commit (a lookup that throws): the dead letter is kept at once and the notice is handed back
    // for the host's durable queue, not written into a batch that may not come.
    [Fact]
    public void Shelve_FailureOutsideABatch_KeepsTheDeadLetterAndReturnsItsNoticeToQueue()
    {
        var (guard, store, log, _) = Create(new InvalidOperationException("unused"));
        var alert = new EventMessage('1', "vigil-intel", """{"rule":{"id":"554"}}""");

        var notice = guard.Shelve("intelligence", alert, 0, new IOException("disk gone"));

        var letter = Assert.Single(store.List(10));
        Assert.Equal("intelligence", letter.Stage);
        Assert.Contains(log, l => l.Contains("could not be handled by intelligence", StringComparison.Ordinal));
        var result = guard.Process(notice);
        var json = JsonDocument.Parse(result.AlertJson!).RootElement;
        Assert.Equal("200500", json.GetProperty("rule").GetProperty("id").GetString());
        Assert.Equal($"{letter.Id}", json.GetProperty("data").GetProperty("vigil").GetProperty("dead_letter").GetProperty("id").GetString());
        Assert.Equal(1, store.Count()); // the notice itself is no dead letter
    }

    [Fact]
    public void Process_ReplayedEventThatThrows_IsKeptOnce()
    {
        var (guard, store, _, _) = Create(new InvalidOperationException("boom"));
        var bad = new EventMessage('8', "[002] (db) any->syscheck", EventMutator.Fim("/root/poison.bin"));

        guard.Process(bad, sequence: 7);
        guard.Process(bad, sequence: 7);

        Assert.Equal(1, store.Count());
    }

    [Fact]
    public void DeadLetterStore_BeyondItsBound_DropsTheOldest()
    {
        using var store = new DeadLetterStore(_temp.Combine("bounded.db"), _time);
        var message = new EventMessage('1', "x", new string('a', DeadLetterStore.MaxEventChars + 10));
        long last = 0;
        for (var i = 0; i < DeadLetterStore.MaxRecords + 5; i++)
        {
            last = store.Add("analysis", message, 0, new InvalidOperationException("x"));
        }

        Assert.Equal(DeadLetterStore.MaxRecords, store.Count());
        Assert.Null(store.Find(5));
        Assert.NotNull(store.Find(6));
        Assert.True(store.Find(last)!.Event.Length <= DeadLetterStore.MaxEventChars + 1);
    }

    [Fact]
    public void StageMonitor_BusyWithoutProgressPastTheLimit_IsStalled()
    {
        var stages = new StageMonitor(_time, TimeSpan.FromSeconds(60));
        var stage = stages.Register("analysis");
        stage.Busy();
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Empty(stages.Unhealthy());

        stage.Done();
        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal("stalled", Assert.Single(stages.Unhealthy()).Status);

        stage.Idle();
        _time.Advance(TimeSpan.FromSeconds(600));
        Assert.Empty(stages.Unhealthy());
    }

    [Fact]
    public async Task StageMonitor_LoopThatEndsWhileTheHostRuns_IsStopped()
    {
        var stages = new StageMonitor(_time);
        using var stopping = new CancellationTokenSource();
        var loop = Task.Run(() => throw new InvalidOperationException("the loop died"));
        stages.Watch("execd", loop, stopping.Token);
        await Assert.ThrowsAsync<InvalidOperationException>(() => loop);
        await Task.Delay(50);

        var status = Assert.Single(stages.Unhealthy());
        Assert.Equal(("execd", "stopped"), (status.Name, status.Status));
        Assert.Contains("the loop died", status.Detail, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
