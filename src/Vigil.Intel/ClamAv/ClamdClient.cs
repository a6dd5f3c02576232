using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Vigil.Intel.ClamAv;

/// <summary>Where clamd listens: a unix socket (local: descriptors are passed) or TCP (files are streamed).</summary>
internal sealed record ClamdEndpoint(string? UnixPath, string? Host, int Port)
{
    public bool IsUnix => UnixPath is not null;

    public override string ToString() => UnixPath is not null ? $"clamd at {UnixPath}" : $"clamd at {Host}:{Port}";
}

/// <summary>clamd cannot be reached, or stopped answering (the peer, and why).</summary>
internal sealed class ClamdUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A small clamd client: one connection per command (clamd closes it after one reply outside a session) except for
/// FILDES, which goes over kept IDSESSION connections; <c>z</c> commands (NUL-terminated), every command bounded by a
/// deadline. FILDES passes the open descriptor with
/// SCM_RIGHTS; INSTREAM sends 4-byte big-endian length-prefixed chunks, never more than the stream limit.
/// </summary>
internal sealed class ClamdClient(ClamdEndpoint endpoint, TimeSpan timeout) : IDisposable
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>Idle sessions kept for the next scans (clamd's default MaxThreads is 10).</summary>
    private const int MaxKeptSessions = 8;

    private readonly System.Collections.Concurrent.ConcurrentQueue<ClamdSession> _sessions = new();

    public ClamdEndpoint Endpoint => endpoint;

    /// <summary>Sends <c>z</c><paramref name="command"/> and returns the reply without its NUL.</summary>
    public async Task<string> CommandAsync(string command, CancellationToken cancellationToken)
    {
        using var deadline = Deadline(cancellationToken);
        try
        {
            using var socket = await ConnectAsync(deadline.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"z{command}\0"), SocketFlags.None, deadline.Token);
            return await ReadReplyAsync(socket, deadline.Token);
        }
        catch (Exception ex) when (IsPeerFailure(ex, cancellationToken))
        {
            throw Unavailable(command, ex);
        }
    }

    /// <summary>
    /// FILDES: clamd reads the file through the descriptor itself (unix socket only). The command goes over a kept
    /// IDSESSION connection (one command in flight on each, so replies come in order), which saves a connection and
    /// clamd's start of a new client per file; a kept session clamd closed meanwhile (IdleTimeout, a restart) is
    /// replaced once.
    /// </summary>
    public async Task<ClamdReply> ScanDescriptorAsync(SafeFileHandle file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        using var deadline = Deadline(cancellationToken);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var isKept = _sessions.TryDequeue(out var session);
                session ??= new ClamdSession(await ConnectAsync(deadline.Token));
                try
                {
                    var reply = await session.ScanDescriptorAsync(file, deadline.Token);
                    Keep(session, reply);
                    return reply;
                }
                catch (Exception ex) when (isKept && attempt == 0 && ex is SocketException or IOException)
                {
                    session.Dispose();
                }
                catch
                {
                    session.Dispose();
                    throw;
                }
            }
        }
        catch (Exception ex) when (IsPeerFailure(ex, cancellationToken))
        {
            throw Unavailable("FILDES", ex);
        }
    }

    public void Dispose()
    {
        while (_sessions.TryDequeue(out var session))
        {
            session.Dispose();
        }
    }

    // Only a session whose last reply was a verdict is kept: after an error clamd may have ended it.
    private void Keep(ClamdSession session, ClamdReply reply)
    {
        if (reply is ClamdReply.Clean or ClamdReply.Found && _sessions.Count < MaxKeptSessions)
        {
            _sessions.Enqueue(session);
        }
        else
        {
            session.Dispose();
        }
    }

    /// <summary>INSTREAM: sends the file's first <paramref name="length"/> bytes.</summary>
    public async Task<ClamdReply> ScanStreamAsync(SafeFileHandle file, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        using var deadline = Deadline(cancellationToken);
        Socket? socket = null;
        try
        {
            socket = await ConnectAsync(deadline.Token);
            await socket.SendAsync("zINSTREAM\0"u8.ToArray(), SocketFlags.None, deadline.Token);
            var buffer = new byte[4 + ChunkSize];
            long offset = 0;
            try
            {
                while (offset < length)
                {
                    var read = RandomAccess.Read(file, buffer.AsSpan(4, (int)Math.Min(ChunkSize, length - offset)), offset);
                    if (read == 0)
                    {
                        break; // the file shrank: what was read is what is scanned
                    }

                    BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)read);
                    await socket.SendAsync(buffer.AsMemory(0, 4 + read), SocketFlags.None, deadline.Token);
                    offset += read;
                }

                BinaryPrimitives.WriteUInt32BigEndian(buffer, 0);
                await socket.SendAsync(buffer.AsMemory(0, 4), SocketFlags.None, deadline.Token);
            }
            catch (SocketException)
            {
                // clamd closes the socket while we send when a limit is exceeded; its reply says which.
            }

            return ClamdReply.Parse(await ReadReplyAsync(socket, deadline.Token));
        }
        catch (Exception ex) when (IsPeerFailure(ex, cancellationToken))
        {
            throw Unavailable("INSTREAM", ex);
        }
        finally
        {
            socket?.Dispose();
        }
    }

    private CancellationTokenSource Deadline(CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(timeout);
        return source;
    }

    private async Task<Socket> ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = endpoint.IsUnix
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.IsUnix)
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(endpoint.UnixPath!), cancellationToken);
            }
            else
            {
                await socket.ConnectAsync(endpoint.Host!, endpoint.Port, cancellationToken);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // Up to the NUL that ends a z-command's reply, or the end of the stream; at most MaxLength + 1 bytes.
    internal static async Task<string> ReadReplyAsync(Socket socket, CancellationToken cancellationToken)
    {
        var reply = new byte[ClamdReply.MaxLength + 1];
        var length = 0;
        while (length < reply.Length)
        {
            var read = await socket.ReceiveAsync(reply.AsMemory(length), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                break;
            }

            var nul = Array.IndexOf(reply, (byte)0, length, read);
            if (nul >= 0)
            {
                return Encoding.UTF8.GetString(reply, 0, nul);
            }

            length += read;
        }

        if (length == 0)
        {
            throw new IOException("clamd closed the connection without a reply");
        }

        return Encoding.UTF8.GetString(reply, 0, length);
    }

    private static bool IsPeerFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is SocketException or IOException or ObjectDisposedException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private ClamdUnavailableException Unavailable(string command, Exception ex) =>
        new(ex is OperationCanceledException
            ? $"{endpoint} did not answer {command} within {timeout.TotalSeconds:0.#} s"
            : $"{endpoint}: {command} failed: {ex.Message}", ex);
}

/// <summary>
/// One IDSESSION connection: each reply is the request's number (from 1), <c>": "</c>, and the reply as outside a
/// session. One request at a time, so a reply names the request just sent, or the session is not trusted again.
/// </summary>
internal sealed class ClamdSession(Socket socket) : IDisposable
{
    private bool _isStarted;
    private int _lastId;

    public async Task<ClamdReply> ScanDescriptorAsync(SafeFileHandle file, CancellationToken cancellationToken)
    {
        if (!_isStarted)
        {
            await socket.SendAsync("zIDSESSION\0"u8.ToArray(), SocketFlags.None, cancellationToken);
            _isStarted = true;
        }

        await socket.SendAsync("zFILDES\0"u8.ToArray(), SocketFlags.None, cancellationToken);
        FdPassing.Send(socket, (int)file.DangerousGetHandle());
        var id = ++_lastId;
        var reply = await ClamdClient.ReadReplyAsync(socket, cancellationToken);
        return Parse(reply, id);
    }

    /// <summary>A session's reply to request <paramref name="id"/>: <c>"{id}: fd[N]: OK"</c> and the like.</summary>
    internal static ClamdReply Parse(string reply, int id)
    {
        var prefix = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{id}: ");
        return reply.StartsWith(prefix, StringComparison.Ordinal)
            ? ClamdReply.Parse(reply.AsSpan(prefix.Length))
            : new ClamdReply.Malformed($"not the reply to session request {id}: '{(reply.Length <= 80 ? reply : reply[..80] + "…")}'");
    }

    public void Dispose() => socket.Dispose();
}
