using System.Net.Sockets;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Vigil.Intel.ClamAv;

/// <summary>A clamd session that ended (the peer and why); <see cref="IsClosed"/> when the connection closed or broke.</summary>
internal sealed class ClamdSessionException(string message, bool isClosed, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The connection closed or broke (worth one new session), as opposed to a peer Vigil does not understand.</summary>
    public bool IsClosed { get; } = isClosed;
}

/// <summary>
/// One IDSESSION connection with several FILDES requests in flight, as <c>clamdscan --fdpass --multiscan</c> keeps
/// them: requests are sent one after another under a lock without waiting for replies, clamd numbers them in the
/// order it reads them (from 1), hands each to a scanner thread, and each thread writes <c>"{id}: fd[N]: OK"</c> (and
/// the like) when its scan ends, so replies come in any order. One reader completes each pending scan by its number.
/// A reply Vigil does not understand or that names no request in flight, a reply longer than clamd writes, or a
/// connection that closes ends the session: every scan still pending fails with <see cref="ClamdSessionException"/>
/// at once (none waits for a reply that cannot come). A request its caller gave up on (<see cref="Abandon"/>) is
/// remembered, so that its late reply is read and dropped; more than the session's bound of them ends it.
/// </summary>
internal sealed class ClamdSession : IDisposable
{
    // The longest "{id}: " prefix (clamd's id is an unsigned int) before a reply.
    private const int MaxIdPrefix = 12;
    private const int MaxLine = ClamdReply.MaxLength + MaxIdPrefix;

    private readonly Socket _socket;
    private readonly nint _fd;
    private readonly ClamdEndpoint _endpoint;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, TaskCompletionSource<ClamdReply>> _pending = [];
    private readonly HashSet<int> _abandoned = [];
    private readonly int _maxAbandoned;
    private int _lastId;
    private int _peakInFlight;
    private volatile ClamdSessionException? _failure;

    private ClamdSession(Socket socket, ClamdEndpoint endpoint, int maxAbandoned)
    {
        _socket = socket;
        _fd = socket.Handle;
        _endpoint = endpoint;
        _maxAbandoned = maxAbandoned;

        // Its own thread, blocked in recv: a reply wakes it directly, and it completes every scan the read holds.
        new Thread(ReadReplies) { IsBackground = true, Name = "clamd session" }.Start();
    }

    /// <summary>Whether the session still takes requests.</summary>
    public bool IsOpen => _failure is null;

    /// <summary>Requests sent and not answered yet.</summary>
    public int InFlight
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Requests given up on whose replies have not come yet.</summary>
    public int Abandoned
    {
        get
        {
            lock (_lock)
            {
                return _abandoned.Count;
            }
        }
    }

    /// <summary>The most requests that were in flight at once.</summary>
    public int PeakInFlight => Volatile.Read(ref _peakInFlight);

    /// <summary>
    /// Starts a session on a connected blocking socket (it is the session's from now on); more than
    /// <paramref name="maxAbandoned"/> requests given up on and not answered yet end it.
    /// </summary>
    public static ClamdSession Start(Socket socket, ClamdEndpoint endpoint, int maxAbandoned)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentOutOfRangeException.ThrowIfNegative(maxAbandoned);
        socket.Send("zIDSESSION\0"u8);
        return new ClamdSession(socket, endpoint, maxAbandoned);
    }

    /// <summary>
    /// Sends FILDES with <paramref name="file"/> and returns the reply to come (clamd reads the file with pread from
    /// its start, so the descriptor's offset does not matter), and in <paramref name="id"/> the request's number for
    /// <see cref="Abandon"/>. Fails with <see cref="ClamdSessionException"/> when the session ends first; a send that
    /// cannot go within <paramref name="sendTimeout"/> ends the session.
    /// </summary>
    public Task<ClamdReply> ScanDescriptorAsync(SafeFileHandle file, TimeSpan sendTimeout, out int id)
    {
        ArgumentNullException.ThrowIfNull(file);
        id = 0;
        // Completed on the reader's thread, which then runs the caller's continuation itself (it ends the file and
        // sends the next request, as clamdscan's one loop does): a hop through the thread pool for every reply cost
        // 3 to 4 times the client's cpu (its idle workers spin), cpu clamd then lacks on a small machine. A caller
        // that blocks on another scan there still has its answer by the deadline (the deadline's timer completes it).
        var reply = new TaskCompletionSource<ClamdReply>();
        lock (_lock)
        {
            if (_failure is { } failure)
            {
                return Task.FromException<ClamdReply>(failure);
            }

            // The number is taken and the request sent under one lock: clamd numbers requests as they arrive.
            id = ++_lastId;
            _pending.Add(id, reply);
            _peakInFlight = Math.Max(_peakInFlight, _pending.Count);
            try
            {
                FdPassing.SendFildes(_fd, (int)file.DangerousGetHandle(), (int)Math.Clamp(sendTimeout.TotalMilliseconds, 1, int.MaxValue));
            }
            catch (SocketException ex)
            {
                _pending.Remove(id);
                reply.TrySetException(new ClamdSessionException($"{_endpoint}: FILDES could not be sent: {ex.Message}", isClosed: true, ex));
            }
        }

        if (reply.Task.IsFaulted)
        {
            Fail("the session broke while a request was sent", isClosed: true); // the numbering is lost with it
        }

        return reply.Task;
    }

    /// <summary>
    /// Gives up on request <paramref name="id"/> (its caller stopped waiting: a deadline) without ending the session:
    /// its reply, when it comes, is read and dropped. clamd still scans the file, so more than the session's bound of
    /// such requests not answered yet ends the session (clamd is likely stuck), as the connection closing would.
    /// </summary>
    public void Abandon(int id)
    {
        int abandoned;
        lock (_lock)
        {
            if (_failure is not null || !_pending.Remove(id))
            {
                return; // answered meanwhile, or the session already ended
            }

            _abandoned.Add(id);
            abandoned = _abandoned.Count;
        }

        if (abandoned > _maxAbandoned)
        {
            Fail($"left {abandoned} requests unanswered past their deadline", isClosed: true);
        }
    }

    /// <summary>Ends the session: every pending scan fails with <paramref name="reason"/> (the peer is named first).</summary>
    public void Fail(string reason, bool isClosed)
    {
        TaskCompletionSource<ClamdReply>[] pending;
        ClamdSessionException failure;
        lock (_lock)
        {
            if (_failure is not null)
            {
                return;
            }

            _failure = failure = new ClamdSessionException($"{_endpoint}: {reason}", isClosed);
            pending = [.. _pending.Values];
            _pending.Clear();
            _abandoned.Clear();
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both); // wakes the reader out of its recv
        }
        catch (SocketException)
        {
        }

        _socket.Dispose();
        foreach (var scan in pending)
        {
            scan.TrySetException(failure);
        }
    }

    public void Dispose() => Fail("the session was closed by Vigil", isClosed: true);

    private void ReadReplies()
    {
        // Room for two whole replies, so a reply split across reads is completed in place; one char buffer to
        // decode into, so a reply costs nothing but its result.
        var buffer = new byte[2 * (MaxLine + 1)];
        var text = new char[ClamdReply.MaxLength + 1];
        int start = 0, end = 0;
        try
        {
            while (_failure is null)
            {
                if (end == buffer.Length)
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    end -= start;
                    start = 0;
                }

                var read = _socket.Receive(buffer, end, buffer.Length - end, SocketFlags.None);
                if (read == 0)
                {
                    var count = InFlight;
                    Fail(end > start ? $"closed the session in the middle of a reply ({Shown(buffer.AsSpan(start, end - start))})"
                        : count > 0 ? $"closed the session with {count} scan(s) in flight"
                        : "closed the session", isClosed: true);
                    return;
                }

                end += read;
                int nul;
                while ((nul = buffer.AsSpan(start, end - start).IndexOf((byte)0)) >= 0)
                {
                    if (!Complete(buffer.AsSpan(start, nul), text))
                    {
                        return;
                    }

                    start += nul + 1;
                }

                if (start == end)
                {
                    start = end = 0;
                }
                else if (end - start > MaxLine)
                {
                    Fail($"sent a reply longer than {MaxLine} bytes ({Shown(buffer.AsSpan(start, 80))})", isClosed: false);
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
            Fail($"the session broke: {ex.Message}", isClosed: true);
        }
    }

    // One reply to the scan it names; false when the session had to end.
    private bool Complete(ReadOnlySpan<byte> line, char[] text)
    {
        if (Parse(line, text, out var id) is not { } reply)
        {
            Fail($"sent a reply without a request number ({Shown(line)})", isClosed: false);
            return false;
        }

        TaskCompletionSource<ClamdReply>? scan;
        bool isLate;
        lock (_lock)
        {
            isLate = !_pending.Remove(id, out scan) && _abandoned.Remove(id);
        }

        if (isLate)
        {
            return true; // its caller gave up on it
        }

        if (scan is null)
        {
            Fail($"sent a reply to request {id}, which is not in flight ({Shown(line)})", isClosed: false);
            return false;
        }

        scan.TrySetResult(reply);
        return true;
    }

    /// <summary>
    /// A session reply without its NUL: <c>"{id}: "</c> (clamd's number, from 1, without leading zeros) and the reply
    /// as outside a session, parsed by <see cref="ClamdReply.Parse"/> (decoded into <paramref name="text"/>, which
    /// holds at least <see cref="ClamdReply.MaxLength"/> + 1 characters). Null when there is no such number.
    /// </summary>
    internal static ClamdReply? Parse(ReadOnlySpan<byte> line, Span<char> text, out int id)
    {
        id = 0;
        var digits = 0;
        while (digits < line.Length && line[digits] is >= (byte)'0' and <= (byte)'9')
        {
            if (digits == 0 && line[0] == '0' || id > (int.MaxValue - 9) / 10)
            {
                id = 0;
                return null;
            }

            id = id * 10 + (line[digits] - '0');
            digits++;
        }

        if (digits == 0 || !line[digits..].StartsWith(": "u8))
        {
            id = 0;
            return null;
        }

        // Latin-1 keeps one character per byte: anything but printable ASCII is then named by ClamdReply.Parse.
        var rest = line[(digits + 2)..];
        var length = Math.Min(rest.Length, ClamdReply.MaxLength + 1);
        Encoding.Latin1.GetChars(rest[..length], text);
        return ClamdReply.Parse(text[..length]);
    }

    private static string Shown(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.Latin1.GetString(bytes[..Math.Min(bytes.Length, 80)]);
        var printable = string.Create(text.Length, text, static (span, t) =>
        {
            for (var i = 0; i < t.Length; i++)
            {
                span[i] = t[i] is >= ' ' and <= '~' ? t[i] : '?';
            }
        });
        return bytes.Length > 80 ? $"'{printable}…'" : $"'{printable}'";
    }
}
