using System.Globalization;
using System.Text;

namespace Vigil.Analysis.Alerts;

/// <summary>
/// Appends alerts to <c>alerts.json</c> and <c>alerts.log</c> and gives each its Wazuh id <c>&lt;epoch&gt;.&lt;offset&gt;</c>
/// (the offset of alerts.log, or of alerts.json when alerts.log is off; spec §6.2). Append-only and crash-safe: on open, a
/// torn last line (a write cut short by a crash) is cut off, so the files always end on a whole line.
/// </summary>
internal sealed class AlertFileWriter : IDisposable
{
    private readonly FileStream? _json;
    private readonly FileStream? _log;
    private readonly Encoder _encoder = Encoding.UTF8.GetEncoder();
    private readonly byte[] _bytes = new byte[4096];
    private long _detachedOffset;

    private AlertFileWriter(FileStream? json, FileStream? log)
    {
        _json = json;
        _log = log;
    }

    /// <summary>Bytes cut off torn tails when the files were opened (0 after a clean stop).</summary>
    public long RepairedBytes { get; private init; }

    /// <summary>
    /// Opens (creating) the alert files in <paramref name="directory"/>; null paths mean that output is off. With
    /// <paramref name="committedEnds"/> (the manager's last committed batch), whatever lies beyond those ends — alerts of
    /// a batch that was never committed, whose events will be replayed — is cut off, so a replay never duplicates them.
    /// </summary>
    public static AlertFileWriter Open(string directory, bool jsonOutput, bool logOutput, (long Json, long Log)? committedEnds = null)
    {
        Directory.CreateDirectory(directory);
        long repaired = 0;
        var json = jsonOutput ? OpenRepaired(Path.Combine(directory, "alerts.json"), committedEnds?.Json, ref repaired) : null;
        var log = logOutput ? OpenRepaired(Path.Combine(directory, "alerts.log"), committedEnds?.Log, ref repaired) : null;
        return new AlertFileWriter(json, log) { RepairedBytes = repaired };
    }

    /// <summary>Where the files end once buffered alerts are written (0 for an output that is off).</summary>
    public (long Json, long Log) Ends => (_json?.Position ?? 0, _log?.Position ?? 0);

    /// <summary>Where alerts.json ends once buffered alerts are written, or null when JSON output is off.</summary>
    public long? JsonEnd => _json?.Position;

    /// <summary>The alerts.json this writer appends to, or null when JSON output is off.</summary>
    public string? JsonPath => _json?.Name;

    /// <summary>A writer with no files (logtest): ids count the bytes alerts.log would hold.</summary>
    public static AlertFileWriter Detached() => new(null, null);

    /// <summary>Gives the alert its id and appends it; returns the alerts.json line as UTF-8 (without its newline).</summary>
    public byte[] Append(Alert alert, AlertContext context)
    {
        var offset = (_log ?? _json)?.Position ?? _detachedOffset;
        alert.Id = string.Create(CultureInfo.InvariantCulture, $"{alert.Timestamp.ToUnixTimeSeconds()}.{offset}");
        var utf8 = AlertJson.SerializeUtf8(alert, context);
        if (_log is not null || _json is null)
        {
            var entry = AlertLog.FormatShared(alert, context);
            if (_log is null)
            {
                _detachedOffset += EncodeUtf8(entry, null);
            }
            else
            {
                EncodeUtf8(entry, _log);
            }
        }

        if (_json is not null)
        {
            // Line and newline go into the stream's buffer together; a crash can tear only the last line,
            // which the next open cuts off.
            _json.Write(utf8.Span);
            _json.WriteByte((byte)'\n');
        }

        return utf8.ToArray();
    }

    // The builder is encoded chunk by chunk (no string of the entry is made); the encoder keeps a surrogate pair split
    // across two chunks together. Returns the byte count; writes the bytes when a stream is given.
    private long EncodeUtf8(StringBuilder text, FileStream? stream)
    {
        // One chunk is the usual case once the reused builder has grown: it is counted in one go.
        var chunks = text.GetChunks();
        if (stream is null && chunks.MoveNext() && chunks.Current.Length == text.Length)
        {
            return Encoding.UTF8.GetByteCount(chunks.Current.Span);
        }

        _encoder.Reset();
        long count = 0;
        foreach (var chunk in text.GetChunks())
        {
            var chars = chunk.Span;
            while (!chars.IsEmpty)
            {
                // 1024 chars of 3 bytes at most, plus a pending high surrogate's 4 bytes, fit the buffer.
                var take = Math.Min(chars.Length, 1024);
                count += Flush(_encoder.GetBytes(chars[..take], _bytes, flush: false));
                chars = chars[take..];
            }
        }

        return count + Flush(_encoder.GetBytes([], _bytes, flush: true));

        int Flush(int length)
        {
            stream?.Write(_bytes, 0, length);
            return length;
        }
    }

    /// <summary>The JSON (UTF-8) of an alert that is not written (below log_alert_level), for active responses and logtest.</summary>
    public byte[] Describe(Alert alert, AlertContext context)
    {
        var offset = (_log ?? _json)?.Position ?? _detachedOffset;
        alert.Id = string.Create(CultureInfo.InvariantCulture, $"{alert.Timestamp.ToUnixTimeSeconds()}.{offset}");
        return AlertJson.SerializeUtf8(alert, context).ToArray();
    }

    /// <summary>Pushes buffered alerts to the files; with <paramref name="durable"/>, to the disk (fsync).</summary>
    public void Flush(bool durable)
    {
        _log?.Flush(durable);
        _json?.Flush(durable);
    }

    public void Dispose()
    {
        Flush(durable: true);
        _log?.Dispose();
        _json?.Dispose();
    }

    private static FileStream OpenRepaired(string path, long? committedEnd, ref long repaired)
    {
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 64 * 1024);
        if (committedEnd is { } committed && stream.Length > committed)
        {
            repaired += stream.Length - committed;
            stream.SetLength(committed);
        }

        var length = stream.Length;
        var end = LastNewlineEnd(stream);
        if (end < length)
        {
            stream.SetLength(end);
            repaired += length - end;
        }

        stream.Seek(0, SeekOrigin.End);
        return stream;
    }

    // The offset just after the last '\n' (0 when there is none).
    private static long LastNewlineEnd(FileStream stream)
    {
        var buffer = new byte[8192];
        var position = stream.Length;
        while (position > 0)
        {
            var count = (int)Math.Min(buffer.Length, position);
            position -= count;
            stream.Seek(position, SeekOrigin.Begin);
            stream.ReadExactly(buffer, 0, count);
            var index = Array.LastIndexOf(buffer, (byte)'\n', count - 1, count);
            if (index >= 0)
            {
                return position + index + 1;
            }
        }

        return 0;
    }
}
