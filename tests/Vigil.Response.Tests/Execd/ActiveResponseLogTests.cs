using Vigil.Core.Events;
using Vigil.Response.Execd;

namespace Vigil.Response.Tests.Execd;

public sealed class ActiveResponseLogTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public void Format_WazuhLayout_DateArgv0Message()
    {
        var at = new DateTimeOffset(2024, 3, 5, 7, 8, 9, TimeSpan.Zero);
        Assert.Equal("2024/03/05 07:08:09 active-response/bin/remove-threat: {} Successfully removed threat",
            ActiveResponseLog.Format(at, "active-response/bin/remove-threat", "{} Successfully removed threat"));
        Assert.Equal("2024/03/05 07:08:09 x: a\\nb", ActiveResponseLog.Format(at, "x", "a\nb"));
    }

    [Fact]
    public async Task Write_WithSink_AppendsAndPublishesWithFilePathAsLocation()
    {
        var sink = new Sink();
        var log = new ActiveResponseLog(_sandbox.LogPath, TimeProvider.System, sink);
        var line = await log.WriteAsync("vigil-execd", "hello", CancellationToken.None);
        await log.WriteAsync("vigil-execd", "again", CancellationToken.None);
        Assert.Equal(2, File.ReadAllLines(_sandbox.LogPath).Length);
        Assert.Equal(new EventMessage('1', _sandbox.LogPath, line), sink.Messages[0]);
    }

    [Fact]
    public async Task Tailer_TornLastLine_PublishesOnlyCompleteLines()
    {
        var sink = new Sink();
        File.WriteAllText(_sandbox.LogPath, "old line\n");
        var tailer = new ActiveResponseLogTailer(_sandbox.LogPath, sink, TimeProvider.System);
        Assert.Equal(0, await tailer.PollOnceAsync(CancellationToken.None)); // starts at the end

        File.AppendAllText(_sandbox.LogPath, "first\nsec");
        Assert.Equal(1, await tailer.PollOnceAsync(CancellationToken.None));
        File.AppendAllText(_sandbox.LogPath, "ond\n");
        Assert.Equal(1, await tailer.PollOnceAsync(CancellationToken.None));
        Assert.Equal(["first", "second"], sink.Messages.Select(m => m.Message));

        File.WriteAllText(_sandbox.LogPath, "after truncation\n");
        Assert.Equal(1, await tailer.PollOnceAsync(CancellationToken.None));
        Assert.Equal("after truncation", sink.Messages[^1].Message);
    }

    [Fact]
    public async Task Tailer_FileCreatedAfterStart_PublishesItsFirstLines()
    {
        // The first removal creates active-responses.log: its first line must reach the rules (657/100092).
        var sink = new Sink();
        var tailer = new ActiveResponseLogTailer(_sandbox.LogPath, sink, TimeProvider.System);
        Assert.Equal(0, await tailer.PollOnceAsync(CancellationToken.None));
        File.WriteAllText(_sandbox.LogPath, "first ever\n");
        Assert.Equal(1, await tailer.PollOnceAsync(CancellationToken.None));
        Assert.Equal("first ever", Assert.Single(sink.Messages).Message);
    }

    // A host restarted after a crash runs the responses it still had queued before its tailer first polls; with no
    // position kept yet (the crash came before the first line was read), a start at the end skipped their lines:
    // files quarantined with no 100092 and no 200303. Anchored at start, the tailer reads them.
    [Fact]
    public async Task Tailer_AnchoredBeforeLinesAreWritten_ReadsLinesWrittenBeforeItsFirstPoll()
    {
        File.WriteAllText(_sandbox.LogPath, "from before the host\n");
        var position = new Position();
        new ActiveResponseLogTailer(_sandbox.LogPath, new Sink(), TimeProvider.System) { Position = position }.Anchor();
        File.AppendAllText(_sandbox.LogPath, "written at start\n");

        var sink = new Sink();
        var tailer = new ActiveResponseLogTailer(_sandbox.LogPath, sink, TimeProvider.System) { Position = position };
        tailer.Anchor(); // a position is kept: it stays
        Assert.Equal(1, await tailer.PollOnceAsync(CancellationToken.None));
        Assert.Equal("written at start", Assert.Single(sink.Messages).Message);
    }

    [Fact]
    public async Task Tailer_AnchoredWithNoFile_ReadsTheFileFromItsStartOnceItAppears()
    {
        var position = new Position();
        var sink = new Sink();
        var tailer = new ActiveResponseLogTailer(_sandbox.LogPath, sink, TimeProvider.System) { Position = position };
        tailer.Anchor();
        File.WriteAllText(_sandbox.LogPath, "first\nsecond\n");
        var restarted = new ActiveResponseLogTailer(_sandbox.LogPath, sink, TimeProvider.System) { Position = position };
        Assert.Equal(2, await restarted.PollOnceAsync(CancellationToken.None));
    }

    private sealed class Position : ITailPosition
    {
        private (ulong, long)? _saved;

        public (ulong Inode, long Offset)? Load() => _saved;

        public void Save(ulong inode, long offset) => _saved = (inode, offset);
    }

    private sealed class Sink : IEventSink
    {
        public List<EventMessage> Messages { get; } = [];

        public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken)
        {
            Messages.Add(message);
            return ValueTask.CompletedTask;
        }
    }
}
