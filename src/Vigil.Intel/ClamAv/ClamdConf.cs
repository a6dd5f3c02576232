using System.Globalization;
using Vigil.Core;

namespace Vigil.Intel.ClamAv;

/// <summary>
/// What Vigil takes from a clamd.conf: where clamd listens, its stream limit, its database directory, and its thread
/// and queue limits (how many requests Vigil keeps in flight).
/// </summary>
internal sealed record ClamdConf(string Path, string? LocalSocket, string? TcpAddress, int? TcpPort, long StreamMaxLength, string? DatabaseDirectory)
{
    /// <summary>clamd's own default StreamMaxLength (25 MiB).</summary>
    public const long DefaultStreamMaxLength = 25L * 1024 * 1024;

    /// <summary>clamd's scanner threads (its default is 10).</summary>
    public int MaxThreads { get; init; } = 10;

    /// <summary>clamd's queue of requests waiting for a thread (its default is 100; clamd raises it to 2 × MaxThreads).</summary>
    public int MaxQueue { get; init; } = 100;

    /// <summary>
    /// FILDES requests to keep in flight: four times the threads, so a thread that ends a scan finds the next ones
    /// queued while Vigil reads a reply and sends the next request, and never more than half the queue. clamd stops reading every client (its one receive thread waits) while the
    /// session requests it queued fill half of MaxQueue (clamd/thrmgr.c, <c>thrmgr_contended</c>).
    /// </summary>
    public int MaxInFlight => Math.Max(1, Math.Min(4 * MaxThreads, Math.Max(MaxQueue, 2 * MaxThreads) / 2));

    /// <summary>Reads a clamd.conf; throws <see cref="VigilException"/> naming file:line for a bad value.</summary>
    public static ClamdConf Load(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ClamdConfException(path, 0, $"cannot read clamd's configuration: {ex.Message}");
        }

        return Parse(path, lines);
    }

    public static ClamdConf Parse(string path, IReadOnlyList<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var conf = new ClamdConf(path, null, null, null, DefaultStreamMaxLength, "/var/lib/clamav");
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var space = line.IndexOfAny([' ', '\t']);
            var key = space < 0 ? line : line[..space];
            var value = space < 0 ? "" : line[(space + 1)..].Trim();
            var lineNumber = i + 1;
            switch (key.ToUpperInvariant())
            {
                case "LOCALSOCKET":
                    conf = conf with { LocalSocket = value };
                    break;
                case "TCPSOCKET":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
                    {
                        throw new ClamdConfException(path, lineNumber, $"TCPSocket must be a port number, got '{value}'");
                    }

                    conf = conf with { TcpPort = port };
                    break;
                case "TCPADDR":
                    conf = conf with { TcpAddress = conf.TcpAddress ?? value }; // clamd may listen on several; the first will do
                    break;
                case "STREAMMAXLENGTH":
                    conf = conf with { StreamMaxLength = ParseSize(value) ?? throw new ClamdConfException(path, lineNumber, $"StreamMaxLength must be a size such as 25M, got '{value}'") };
                    break;
                case "DATABASEDIRECTORY":
                    conf = conf with { DatabaseDirectory = value };
                    break;
                case "MAXTHREADS":
                    conf = conf with { MaxThreads = Count(path, lineNumber, key, value) };
                    break;
                case "MAXQUEUE":
                    conf = conf with { MaxQueue = Count(path, lineNumber, key, value) };
                    break;
                default:
                    break;
            }
        }

        return conf;
    }

    private static int Count(string path, int line, string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ClamdConfException(path, line, $"{key} must be a positive number, got '{value}'");

    /// <summary>clamd's sizes: a number with an optional K or M suffix (and G, which clamd's parser also takes).</summary>
    public static long? ParseSize(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            return null;
        }

        var multiplier = char.ToUpperInvariant(value[^1]) switch
        {
            'K' => 1024L,
            'M' => 1024L * 1024,
            'G' => 1024L * 1024 * 1024,
            _ => 1L,
        };
        var digits = multiplier == 1 ? value : value[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= long.MaxValue / multiplier ? n * multiplier : null;
    }
}

/// <summary>A clamd.conf that cannot be used, at file:line (line 0: the file as a whole).</summary>
internal sealed class ClamdConfException(string file, int line, string problem)
    : VigilException(line > 0 ? $"{file}:{line}: {problem}" : $"{file}: {problem}")
{
    public string File { get; } = file;

    public int Line { get; } = line;

    public string Problem { get; } = problem;
}
