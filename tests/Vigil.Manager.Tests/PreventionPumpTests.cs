using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Vigil.Core.Events;
using Vigil.Hosting;

namespace Vigil.Manager.Tests;

/// <summary>The prevention alerts' way into the host's queue: one the queue refuses is logged and the next ones still go.</summary>
public sealed class PreventionPumpTests
{
    [Fact]
    public async Task Pump_AlertTheQueueRefuses_IsLoggedWithItsEventId_AndTheNextIsQueued()
    {
        var alerts = Channel.CreateUnbounded<EventMessage>();
        var sink = new RefusingSink("refused");
        var logger = new RecordingLogger();
        Assert.True(alerts.Writer.TryWrite(new EventMessage(EventMessage.SyscheckQueue, "prevention", "refused")));
        Assert.True(alerts.Writer.TryWrite(new EventMessage(EventMessage.SyscheckQueue, "prevention", "kept")));
        alerts.Writer.Complete();

        await PreventionStage.PumpAsync(alerts.Reader, sink, logger).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["kept"], sink.Published);
        var entry = Assert.Single(logger.Entries);
        Assert.Equal((7100, LogLevel.Error, "A prevention alert could not be queued: the queue is full"), entry);
    }

    private sealed class RefusingSink(string refused) : IEventSink
    {
        public List<string> Published { get; } = [];

        public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken)
        {
            if (message.Message == refused)
            {
                throw new IOException("the queue is full");
            }

            Published.Add(message.Message);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<(int Id, LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries)
            {
                Entries.Add((eventId.Id, logLevel, formatter(state, exception)));
            }
        }
    }
}
