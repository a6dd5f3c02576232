using Microsoft.Extensions.Logging;

namespace Vigil.Tests.Common;

/// <summary>A logger that writes each entry's message, one line each, to a writer the test reads.</summary>
public sealed class WriterLogger(TextWriter output) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (output)
        {
            output.WriteLine(formatter(state, exception));
        }
    }
}
