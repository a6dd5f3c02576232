using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Vigil.Intel.ClamAv;

/// <summary>Sends an open file descriptor over a unix socket (SCM_RIGHTS), which .NET's Socket does not expose.</summary>
internal static unsafe partial class FdPassing
{
    private const int SolSocket = 1;
    private const int ScmRights = 1;
    private const int MsgNoSignal = 0x4000;
    private const int Eintr = 4;
    private const int Eagain = 11;
    private const short PollOut = 4;
    private const int Etimedout = 110;

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } followed by one int, padded to 8 bytes.
    [StructLayout(LayoutKind.Sequential)]
    private struct RightsMessage
    {
        public nuint Length;
        public int Level;
        public int Type;
        public int Fd;
        public int Padding;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMsg(nint socket, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    // "zFILDES" and its NUL, then the one byte clamd expects the descriptor on (clamdscan sends a NUL).
    private static ReadOnlySpan<byte> FildesCommand => "zFILDES\0\0"u8;

    /// <summary>
    /// The whole FILDES request in one sendmsg: the command, its NUL and the byte that carries <paramref name="fd"/>.
    /// clamd reads a unix stream socket with recvmsg, which never reads past a segment carrying descriptors, so the
    /// descriptor arrives with the end of its own command, as when clamdscan sends the command and the byte apart; one
    /// call instead of two, and one wake-up of clamd's receive thread instead of two. The session's socket is
    /// blocking with SO_SNDTIMEO set; a full send buffer (EAGAIN, also from a non-blocking socket) is waited on with
    /// poll for up to <paramref name="timeoutMs"/> more. Throws <see cref="SocketException"/> on failure.
    /// </summary>
    public static void SendFildes(nint socket, int fd, int timeoutMs)
    {
        fixed (byte* command = FildesCommand)
        {
            Send(socket, command, FildesCommand.Length, fd, timeoutMs);
        }
    }

    private static void Send(nint socket, byte* data, int length, int fd, int timeoutMs)
    {
        var iov = new IoVec { Base = data, Length = (nuint)length };
        var rights = new RightsMessage { Length = (nuint)(sizeof(nuint) + 8 + sizeof(int)), Level = SolSocket, Type = ScmRights, Fd = fd };
        var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = &rights, ControlLength = (nuint)sizeof(RightsMessage) };
        var sent = 0;
        while (sent < length)
        {
            var n = SendMsg(socket, &message, MsgNoSignal);
            if (n >= 0)
            {
                // A short send carried the descriptor with its first byte: the rest goes without it.
                sent += (int)n;
                iov.Base = data + sent;
                iov.Length = (nuint)(length - sent);
                message.Control = null;
                message.ControlLength = 0;
                continue;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == Eintr)
            {
                continue;
            }

            if (errno != Eagain)
            {
                throw new SocketException(errno);
            }

            var poll = new PollFd { Fd = (int)socket, Events = PollOut };
            var ready = Poll(&poll, 1, timeoutMs);
            if (ready == 0)
            {
                throw new SocketException(Etimedout);
            }

            if (ready < 0 && Marshal.GetLastPInvokeError() is var pollErrno && pollErrno != Eintr)
            {
                throw new SocketException(pollErrno);
            }
        }
    }
}
