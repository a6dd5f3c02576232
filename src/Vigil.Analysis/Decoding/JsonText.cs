using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Vigil.Analysis.Decoding;

/// <summary>
/// JSON strings as Vigil takes them (docs/text.md): a lone surrogate escape (<c>\udcff</c>) becomes U+FFFD, as
/// invalid UTF-8 does; <c>\u0000</c> stays a NUL character. System.Text.Json refuses such strings; this never does.
/// </summary>
internal static class JsonText
{
    /// <summary>The string or property name the reader is on.</summary>
    public static string GetString(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.HasValueSequence
                ? Encoding.UTF8.GetString(reader.ValueSequence.ToArray())
                : Encoding.UTF8.GetString(reader.ValueSpan);
        }

        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return Unescape(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
        }
    }

    /// <summary>The string value of an element.</summary>
    public static string GetString(JsonElement element)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException) when (element.ValueKind == JsonValueKind.String)
        {
            var raw = Encoding.UTF8.GetBytes(element.GetRawText());
            return Unescape(raw.AsSpan(1, raw.Length - 2));
        }
    }

    /// <summary>A property's name.</summary>
    public static string Name(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return Unescape(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8PropertyName(property));
        }
    }

    /// <summary>A JSON number's text as Wazuh prints it: integral as <c>%i</c>, else <c>%f</c>; one a double cannot hold as written.</summary>
    public static string Number(ReadOnlySpan<byte> raw)
    {
        if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            return d == Math.Floor(d) && Math.Abs(d) < int.MaxValue
                ? ((long)d).ToString(CultureInfo.InvariantCulture)
                : d.ToString("F6", CultureInfo.InvariantCulture);
        }

        return Encoding.UTF8.GetString(raw);
    }

    /// <summary>Unescapes a JSON string's raw bytes (without quotes); a lone surrogate becomes U+FFFD.</summary>
    internal static string Unescape(ReadOnlySpan<byte> raw)
    {
        var text = new StringBuilder(raw.Length);
        while (!raw.IsEmpty)
        {
            var backslash = raw.IndexOf((byte)'\\');
            var plain = backslash < 0 ? raw : raw[..backslash];
            text.Append(Encoding.UTF8.GetString(plain));
            if (backslash < 0)
            {
                break;
            }

            raw = raw[backslash..];
            if (raw.Length < 2)
            {
                text.Append('\uFFFD');
                break;
            }

            switch (raw[1])
            {
                case (byte)'u' when TryHex(raw, 2, out var unit):
                    raw = raw[6..];
                    if (char.IsHighSurrogate((char)unit) && raw.Length >= 6 && raw[0] == '\\' && raw[1] == 'u'
                        && TryHex(raw, 2, out var low) && char.IsLowSurrogate((char)low))
                    {
                        text.Append((char)unit).Append((char)low);
                        raw = raw[6..];
                    }
                    else
                    {
                        text.Append(char.IsSurrogate((char)unit) ? '\uFFFD' : (char)unit);
                    }

                    continue;
                case (byte)'n':
                    text.Append('\n');
                    break;
                case (byte)'t':
                    text.Append('\t');
                    break;
                case (byte)'r':
                    text.Append('\r');
                    break;
                case (byte)'b':
                    text.Append('\b');
                    break;
                case (byte)'f':
                    text.Append('\f');
                    break;
                case (byte)'"' or (byte)'\\' or (byte)'/':
                    text.Append((char)raw[1]);
                    break;
                default:
                    text.Append('\uFFFD');
                    break;
            }

            raw = raw[2..];
        }

        return text.ToString();
    }

    private static bool TryHex(ReadOnlySpan<byte> raw, int start, out int value)
    {
        value = 0;
        return raw.Length >= start + 4
            && int.TryParse(raw.Slice(start, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Copies the property name the reader is on into <paramref name="buffer"/> when it fits and is valid; else null.</summary>
    public static int? TryCopyName(ref Utf8JsonReader reader, scoped Span<char> buffer)
    {
        try
        {
            return reader.CopyString(buffer);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
