using System.Runtime.InteropServices;
using System.Text;
using Vigil.Core.Events;
using Vigil.Core.Native;
using Vigil.Response.Native;

namespace Vigil.Response.Execd;

/// <summary>
/// Appends lines to <c>logs/active-responses.log</c> in Wazuh's format <c>YYYY/MM/DD HH:MM:SS &lt;argv0&gt;: &lt;message&gt;</c>
/// (local time), each with one O_APPEND write so lines from several processes never interleave. When given a
/// sink, hands each line to the pipeline as logcollector would: queue '1', location = the log file's path.
/// </summary>
internal sealed class ActiveResponseLog(string path, TimeProvider timeProvider, IEventSink? sink = null)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string FilePath => path;

    /// <summary>The log's place under an install root: <c>&lt;home&gt;/logs/active-responses.log</c>.</summary>
    public static string PathUnder(string home) => Path.Combine(home, "logs", "active-responses.log");

    /// <summary>An instance's own log under its data directory: <c>&lt;data&gt;/logs/active-responses.log</c>.</summary>
    public static string PathInData(string dataDirectory) => Path.Combine(dataDirectory, "logs", "active-responses.log");

    /// <summary>Renders one line (without the newline). Line breaks in the message are escaped so one entry stays one line.</summary>
    public static string Format(DateTimeOffset localTime, string argv0, string message) =>
        $"{localTime:yyyy'/'MM'/'dd HH':'mm':'ss} {OneLine(argv0)}: {OneLine(message)}";

    /// <summary>Appends one line and publishes it; returns the line.</summary>
    public async ValueTask<string> WriteAsync(string argv0, string message, CancellationToken cancellationToken) =>
        (await WriteAsync([(argv0, message)], cancellationToken))[0];

    /// <summary>
    /// Appends lines with one write, so that a crash leaves all of them or none (a removal's outcome and its quarantine
    /// record go together), and publishes them; returns the lines.
    /// </summary>
    public async ValueTask<IReadOnlyList<string>> WriteAsync(IReadOnlyList<(string Argv0, string Message)> entries, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetLocalNow();
        var lines = entries.Select(e => Format(now, e.Argv0, e.Message)).ToArray();
        var bytes = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var directory = Path.GetDirectoryName(path);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            using var handle = FileDescriptor.OpenAt(null, path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_APPEND | LibC.O_NOFOLLOW, 0x1A0, path);
            var written = ResponseLibC.Write(handle.Fd(), bytes, (nuint)bytes.Length);
            if (written < 0)
            {
                throw new NativeIOException("write", path, Marshal.GetLastPInvokeError());
            }

            if (written != bytes.Length)
            {
                throw new IOException($"write {path}: {written} of {bytes.Length} bytes written");
            }
        }
        finally
        {
            _gate.Release();
        }

        if (sink is not null)
        {
            foreach (var line in lines)
            {
                await sink.PublishAsync(new EventMessage(EventMessage.LocalFileQueue, path, line), cancellationToken);
            }
        }

        return lines;
    }

    private static string OneLine(string text) =>
        text.Contains('\n', StringComparison.Ordinal) || text.Contains('\r', StringComparison.Ordinal)
            ? text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)
            : text;
}
