using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace Vigil.Web;

/// <summary>
/// Kestrel answers a request it cannot parse (a NUL in the path, <c>/api/alerts/%00</c>; a malformed request line or
/// header; one too large) itself, before any middleware, with an empty HTTP/1.1 4xx and <c>Connection: close</c>; it
/// offers no way to give that response a body. This connection middleware sees the bytes Kestrel writes and turns such
/// a response (a 4xx status line at the start of a write, <c>Content-Length: 0</c> and <c>Connection: close</c>) into
/// an <c>application/problem+json</c> document with a <c>detail</c>, as every other 4xx of the API is. The application's
/// own responses always carry a body, so they pass untouched; HTTP/2 frames never start with a status line.
/// </summary>
internal static class BadRequestProblems
{
    public static ConnectionDelegate Middleware(ConnectionDelegate next) => context =>
    {
        var transport = context.Transport;
        var output = PipeWriter.Create(new ProblemStream(transport.Output.AsStream()));
        context.Transport = new DuplexPipe(transport.Input, output);
        return next(context);
    };

    /// <summary>The replacement bytes for one of Kestrel's empty 4xx responses, or null when <paramref name="written"/> is not one.</summary>
    internal static byte[]? Rewrite(ReadOnlySpan<byte> written)
    {
        if (!written.StartsWith("HTTP/1.1 4"u8) || written.Length < 12)
        {
            return null;
        }

        var end = written.IndexOf("\r\n\r\n"u8);
        if (end < 0 || end + 4 != written.Length)
        {
            return null; // not a lone header block: a body follows, or the block is split
        }

        var head = Encoding.ASCII.GetString(written[..end]);
        var lines = head.Split("\r\n");
        if (!lines.Any(l => l.Equals("Content-Length: 0", StringComparison.OrdinalIgnoreCase))
            || !lines.Any(l => l.Equals("Connection: close", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        var statusLine = lines[0].Split(' ', 3);
        if (statusLine.Length < 2 || !int.TryParse(statusLine[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var status))
        {
            return null;
        }

        var title = statusLine.Length == 3 ? statusLine[2] : "Bad Request";
        var detail = status switch
        {
            413 => "the request body is too large",
            414 => "the request target (path and query) is too long",
            431 => "the request headers are too large",
            _ => "the request could not be read: its request line or headers are malformed (a path may not hold a NUL, %00, or control characters)",
        };
        var body = Encoding.UTF8.GetBytes(
            $"{{\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.5\",\"title\":\"{title}\",\"status\":{status},\"detail\":\"{detail}\"}}");
        var headers = new StringBuilder();
        headers.Append(lines[0]).Append("\r\n");
        foreach (var line in lines.Skip(1))
        {
            headers.Append(line.Equals("Content-Length: 0", StringComparison.OrdinalIgnoreCase) ? $"Content-Length: {body.Length}" : line).Append("\r\n");
        }

        headers.Append("Content-Type: application/problem+json\r\n\r\n");
        return [.. Encoding.ASCII.GetBytes(headers.ToString()), .. body];
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }

    // Kestrel's writes pass through unchanged, except one of its empty 4xx responses.
    private sealed class ProblemStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(Rewrite(buffer) ?? buffer);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            Rewrite(buffer.Span) is { } rewritten ? inner.WriteAsync(rewritten, cancellationToken) : inner.WriteAsync(buffer, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}
