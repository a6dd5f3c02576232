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

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMsg(nint socket, MsgHdr* message, int flags);

    /// <summary>Sends one byte carrying <paramref name="fd"/>; throws <see cref="SocketException"/> on failure.</summary>
    public static void Send(Socket socket, int fd)
    {
        ArgumentNullException.ThrowIfNull(socket);
        byte data = 0;
        var iov = new IoVec { Base = &data, Length = 1 };
        var rights = new RightsMessage { Length = (nuint)(sizeof(nuint) + 8 + sizeof(int)), Level = SolSocket, Type = ScmRights, Fd = fd };
        var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = &rights, ControlLength = (nuint)sizeof(RightsMessage) };
        while (true)
        {
            var sent = SendMsg(socket.Handle, &message, MsgNoSignal);
            if (sent >= 0)
            {
                return;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Eintr)
            {
                throw new SocketException(errno);
            }
        }
    }
}
