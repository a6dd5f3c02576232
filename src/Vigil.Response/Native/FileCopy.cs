using System.Buffers;
using Microsoft.Win32.SafeHandles;
using Vigil.Core.Native;

namespace Vigil.Response.Native;

/// <summary>Copies one open file into another with pread/pwrite.</summary>
internal static class FileCopy
{
    /// <summary>Copies <paramref name="source"/> from offset 0 into <paramref name="destination"/> and fsyncs it.</summary>
    public static void CopyAndSync(SafeFileHandle source, SafeFileHandle destination, string destinationForMessages)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long offset = 0;
            int read;
            while ((read = RandomAccess.Read(source, buffer, offset)) > 0)
            {
                RandomAccess.Write(destination, buffer.AsSpan(0, read), offset);
                offset += read;
            }

            FileDescriptor.Check(LibC.FSync(destination.Fd()), "fsync", destinationForMessages);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
