using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using System.Text;
using System.Text.Unicode;

namespace Vigil.Core.Native;

/// <summary>
/// File names are bytes on Linux; Vigil holds them as text. A name that is valid UTF-8 is its text, unchanged; each
/// byte that is not part of valid UTF-8 is written <c>\xHH</c> (and a backslash that is followed by <c>x</c> and two
/// hex digits is written <c>\x5c</c>, so the mapping is exact both ways). That text is what alerts, the baseline, the
/// quarantine and the dashboard show; every libc call turns it back into the original bytes (docs/text.md).
/// </summary>
internal static class PathBytes
{
    /// <summary>The text of a name or path as read from the kernel.</summary>
    public static string FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes) && !HasEscapeLike(bytes))
        {
            return Encoding.UTF8.GetString(bytes);
        }

        var text = new StringBuilder(bytes.Length + 8);
        while (!bytes.IsEmpty)
        {
            var valid = ValidPrefix(bytes);
            var run = bytes[..valid];
            var start = 0;
            for (var i = 0; i < run.Length; i++)
            {
                if (run[i] == '\\' && IsEscapeAt(bytes, i))
                {
                    text.Append(Encoding.UTF8.GetString(run[start..i])).Append("\\x5c");
                    start = i + 1;
                }
            }

            text.Append(Encoding.UTF8.GetString(run[start..]));
            bytes = bytes[valid..];
            if (!bytes.IsEmpty)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{bytes[0]:x2}");
                bytes = bytes[1..];
            }
        }

        return text.ToString();
    }

    /// <summary>The bytes a text path stands for (the inverse of <see cref="FromBytes"/>), without a terminating NUL.</summary>
    public static byte[] ToBytes(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!path.Contains("\\x", StringComparison.Ordinal))
        {
            return Encoding.UTF8.GetBytes(path);
        }

        var bytes = new List<byte>(path.Length);
        var plain = 0;
        for (var i = 0; i < path.Length; i++)
        {
            if (IsHexEscape(path, i))
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(path[plain..i]));
                bytes.Add(byte.Parse(path.AsSpan(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                i += 3;
                plain = i + 1;
            }
        }

        bytes.AddRange(Encoding.UTF8.GetBytes(path[plain..]));
        return [.. bytes];
    }

    /// <summary>Whether the text stands for a name that is not valid UTF-8 (it holds a <c>\xHH</c> escape).</summary>
    public static bool IsEscaped(string path) => path.Contains("\\x", StringComparison.Ordinal) && Enumerable.Range(0, path.Length).Any(i => IsHexEscape(path, i));

    private static bool IsHexEscape(string text, int i) =>
        i + 3 < text.Length && text[i] == '\\' && text[i + 1] == 'x' && char.IsAsciiHexDigit(text[i + 2]) && char.IsAsciiHexDigit(text[i + 3]);

    private static bool IsEscapeAt(ReadOnlySpan<byte> bytes, int i) =>
        i + 3 < bytes.Length && bytes[i] == '\\' && bytes[i + 1] == 'x' && char.IsAsciiHexDigit((char)bytes[i + 2]) && char.IsAsciiHexDigit((char)bytes[i + 3]);

    private static bool HasEscapeLike(ReadOnlySpan<byte> bytes)
    {
        var at = bytes.IndexOf("\\x"u8);
        while (at >= 0)
        {
            if (IsEscapeAt(bytes, at))
            {
                return true;
            }

            var next = bytes[(at + 1)..].IndexOf("\\x"u8);
            at = next < 0 ? -1 : at + 1 + next;
        }

        return false;
    }

    // The length of the longest prefix that is valid UTF-8.
    private static int ValidPrefix(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = stackalloc char[256];
        var total = 0;
        while (true)
        {
            var status = Utf8.ToUtf16(bytes[total..], chars, out var read, out _, replaceInvalidSequences: false);
            total += read;
            if (status != OperationStatus.DestinationTooSmall)
            {
                return total;
            }
        }
    }
}

/// <summary>Marshals a path for libc: the bytes <see cref="PathBytes"/> says the text stands for, NUL-terminated.</summary>
[CustomMarshaller(typeof(string), MarshalMode.ManagedToUnmanagedIn, typeof(PathMarshaller))]
internal static unsafe class PathMarshaller
{
    public static byte* ConvertToUnmanaged(string? managed)
    {
        if (managed is null)
        {
            return null;
        }

        // The usual path (no \xHH escape) is encoded straight into the native buffer, as the built-in marshaller does.
        if (!managed.Contains("\\x", StringComparison.Ordinal))
        {
            var count = Encoding.UTF8.GetByteCount(managed);
            var direct = (byte*)NativeMemory.Alloc((nuint)count + 1);
            Encoding.UTF8.GetBytes(managed, new Span<byte>(direct, count));
            direct[count] = 0;
            return direct;
        }

        var bytes = PathBytes.ToBytes(managed);
        var native = (byte*)NativeMemory.Alloc((nuint)bytes.Length + 1);
        bytes.CopyTo(new Span<byte>(native, bytes.Length));
        native[bytes.Length] = 0;
        return native;
    }

    public static void Free(byte* unmanaged) => NativeMemory.Free(unmanaged);
}
