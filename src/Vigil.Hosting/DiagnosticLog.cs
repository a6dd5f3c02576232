using System.Text;

namespace Vigil.Hosting;

/// <summary>
/// <c>&lt;data&gt;/logs/vigil.log</c>, what <c>ossec.log</c> is to Wazuh's users: every line a long-running command
/// prints (the banner, warnings, limits, the hosts' log entries), each with its time, appended across runs. The console
/// shows the same lines; a progress line that rewrites itself on a terminal is not copied, only its final figures.
/// </summary>
internal sealed class DiagnosticLog : IDisposable
{
    private readonly TextWriter _originalOut;
    private readonly TextWriter _originalError;
    private readonly StreamWriter _file;

    private DiagnosticLog(string path, TimeProvider time)
    {
        Path = path;
        _originalOut = Console.Out;
        _originalError = Console.Error;
        _file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false)) { AutoFlush = true };
        var gate = new object();
        Console.SetOut(TextWriter.Synchronized(new TeeWriter(_originalOut, _file, time, gate)));
        Console.SetError(TextWriter.Synchronized(new TeeWriter(_originalError, _file, time, gate)));
    }

    public string Path { get; }

    /// <summary>Starts copying the console to the data directory's log; null (and a line saying why) when it cannot be opened.</summary>
    public static DiagnosticLog? Start(string dataDirectory, TimeProvider time)
    {
        var path = System.IO.Path.Combine(dataDirectory, "logs", "vigil.log");
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            return new DiagnosticLog(path, time);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"vigil: cannot write the diagnostic log {path}: {ex.Message}; the console alone has the messages");
            return null;
        }
    }

    public void Dispose()
    {
        Console.SetOut(_originalOut);
        Console.SetError(_originalError);
        _file.Dispose();
    }

    /// <summary>Writes through to the console; copies whole lines, stamped, to the file.</summary>
    private sealed class TeeWriter(TextWriter console, StreamWriter file, TimeProvider time, object gate) : TextWriter
    {
        private readonly StringBuilder _line = new();

        public override Encoding Encoding => console.Encoding;

        public override void Write(char value)
        {
            console.Write(value);
            lock (gate)
            {
                switch (value)
                {
                    case '\n':
                        var text = _line.ToString().Replace("\u001b[K", "", StringComparison.Ordinal);

                        // The dashboard's first password is shown once, on the console only.
                        if (text.IndexOf(" with the password ", StringComparison.Ordinal) is var at and >= 0)
                        {
                            text = text[..at] + " (its password was shown on the console only)";
                        }

                        _line.Clear();
                        if (text.Length > 0)
                        {
                            file.WriteLine($"{time.GetLocalNow():yyyy'/'MM'/'dd HH':'mm':'ss} {text}");
                        }

                        break;
                    case '\r':
                        _line.Clear(); // a terminal's progress line rewrites itself: only its final state matters
                        break;
                    default:
                        _line.Append(value);
                        break;
                }
            }
        }

        public override void Write(string? value)
        {
            foreach (var c in value ?? "")
            {
                Write(c);
            }
        }

        public override void Flush() => console.Flush();
    }
}
