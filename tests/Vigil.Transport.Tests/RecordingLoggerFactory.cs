using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Vigil.Transport.Tests;

/// <summary>Keeps every formatted log line, to assert what an operator would read.</summary>
internal sealed class RecordingLoggerFactory : ILoggerFactory, ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public bool Contains(string text) => _lines.Any(l => l.Contains(text, StringComparison.Ordinal));

    /// <summary>Waits up to ten seconds for a line containing <paramref name="text"/> (a log may follow the refusal it reports).</summary>
    public async Task AssertLoggedAsync(string text)
    {
        for (var i = 0; i < 200 && !Contains(text); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(Contains(text), $"no log line contains '{text}'; got:\n{string.Join("\n", _lines)}");
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            _lines.Enqueue($"{logLevel}: {formatter(state, exception)}");
        }
    }

    public void Dispose()
    {
    }
}
