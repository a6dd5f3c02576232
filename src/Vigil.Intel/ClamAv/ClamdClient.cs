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
/// FILDES, which goes over one kept IDSESSION connection with up to <see cref="MaxInFlight"/> requests in flight
/// (<see cref="ClamdSession"/>); <c>z</c> commands (NUL-terminated), every command bounded by a deadline. FILDES passes
/// the open descriptor with SCM_RIGHTS; INSTREAM sends 4-byte big-endian length-prefixed chunks, never more than the
/// stream limit.
/// </summary>
internal sealed class ClamdClient(ClamdEndpoint endpoint, TimeSpan timeout, int maxInFlight = ClamdClient.DefaultMaxInFlight) : IDisposable
{
    /// <summary>FILDES requests in flight when clamd's own limits are not known (no clamd.conf was read).</summary>
    public const int DefaultMaxInFlight = 8;

    private const int ChunkSize = 64 * 1024;

    private readonly SemaphoreSlim _slots = new(Math.Max(1, maxInFlight));
    private readonly Lock _sessionLock = new();
    private Task<ClamdSession>? _session;
    private ClamdSession? _opened; // _session's, once it opened
    private bool _isDisposed;
    private int _sessionsOpened;

    public ClamdEndpoint Endpoint => endpoint;

    /// <summary>FILDES requests sent and not yet answered, at most (callers that keep this many in flight use clamd fully).</summary>
    public int MaxInFlight { get; } = Math.Max(1, maxInFlight);

    /// <summary>FILDES requests in flight on the session now.</summary>
    public int InFlight => _opened?.InFlight ?? 0;

    /// <summary>The most FILDES requests that were in flight at once on the session now.</summary>
    public int PeakInFlight => _opened?.PeakInFlight ?? 0;

    /// <summary>FILDES requests on the session now that were given up on at their deadline and not answered yet.</summary>
    public int Abandoned => _opened?.Abandoned ?? 0;

    /// <summary>IDSESSION connections opened so far.</summary>
    public int SessionsOpened => Volatile.Read(ref _sessionsOpened);

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
    /// FILDES: clamd reads the file through the descriptor itself (unix socket only), over the kept session, so a
    /// file costs one sendmsg and one reply, not a connection and clamd's start of a client. A session that closed
    /// under this request (clamd's IdleTimeout, a restart) is replaced once. A request not answered by the deadline
    /// is Unavailable (naming the file) and abandoned: the other scans on the session go on, and its late reply is
    /// dropped; more than <see cref="MaxInFlight"/> abandoned requests end the session.
    /// </summary>
    public async Task<ClamdReply> ScanDescriptorAsync(SafeFileHandle file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        using var deadline = Deadline(cancellationToken);
        var isSlotTaken = false;
        try
        {
            await _slots.WaitAsync(deadline.Token);
            isSlotTaken = true;
            for (var attempt = 0; ; attempt++)
            {
                var session = await Session().WaitAsync(deadline.Token);
                var reply = session.ScanDescriptorAsync(file, timeout, out var id);
                try
                {
                    return await reply.WaitAsync(deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    // Only this request ends: a slow file must not fail the scans beside it, or send them again.
                    session.Abandon(id);
                    throw;
                }
                catch (ClamdSessionException ex) when (ex.IsClosed && attempt == 0)
                {
                    // once more on a new session
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ClamdUnavailableException($"{endpoint} did not answer FILDES within {timeout.TotalSeconds:0.#} s for {Named(file)}");
        }
        catch (ClamdSessionException ex)
        {
            throw new ClamdUnavailableException(ex.Message, ex);
        }
        catch (Exception ex) when (IsPeerFailure(ex, cancellationToken))
        {
            throw Unavailable("FILDES", ex);
        }
        finally
        {
            if (isSlotTaken)
            {
                _slots.Release();
            }
        }
    }

    public void Dispose()
    {
        lock (_sessionLock)
        {
            _isDisposed = true;
            _opened?.Dispose();
        }
    }

    // The open session, or a new one (shared by the scans that ask while it connects).
    private Task<ClamdSession> Session()
    {
        lock (_sessionLock)
        {
            ObjectDisposedException.ThrowIf(_isDisposed, this);
            if (_session is { } current && (!current.IsCompleted || current.IsCompletedSuccessfully && _opened is { IsOpen: true }))
            {
                return current;
            }

            _opened = null;
            return _session = Task.Run(OpenSession);
        }
    }

    // A blocking socket, so that the session's reader thread reads with plain recv (no round trip through the
    // socket engine's epoll thread and the thread pool for each reply); SO_SNDTIMEO bounds the connect too (a unix
    // connect waits that long for room in the listener's backlog) and every send.
    private ClamdSession OpenSession()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.SendTimeout = (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue);
            socket.Connect(new UnixDomainSocketEndPoint(endpoint.UnixPath!));
            var session = ClamdSession.Start(socket, endpoint, MaxInFlight);
            Interlocked.Increment(ref _sessionsOpened);
            lock (_sessionLock)
            {
                if (_isDisposed)
                {
                    session.Dispose();
                    throw new ObjectDisposedException(nameof(ClamdClient));
                }

                _opened = session;
            }

            return session;
        }
        catch
        {
            socket.Dispose();
            throw;
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

    // The file as the kernel names the descriptor now (the engines are given descriptors, not paths): for a message only.
    private static string Named(SafeFileHandle file)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{file.DangerousGetHandle()}").LinkTarget ?? $"fd {file.DangerousGetHandle()}";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"fd {file.DangerousGetHandle()}";
        }
    }

    private static bool IsPeerFailure(Exception ex, CancellationToken cancellationToken) =>
        ex is SocketException or IOException or ObjectDisposedException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private ClamdUnavailableException Unavailable(string command, Exception ex) =>
        new(ex is OperationCanceledException
            ? $"{endpoint} did not answer {command} within {timeout.TotalSeconds:0.#} s"
            : $"{endpoint}: {command} failed: {ex.Message}", ex);
}
