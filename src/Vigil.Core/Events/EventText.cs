using System.Text;

namespace Vigil.Core.Events;

/// <summary>
/// How Vigil takes text it did not write (events, API bodies, AR program input): invalid UTF-8 and lone UTF-16
/// surrogates become U+FFFD, NUL and every other character are kept (docs/text.md).
/// </summary>
public static class EventText
{
    /// <summary>The text with each lone surrogate replaced by U+FFFD; the same instance when there is none.</summary>
    public static string Scrub(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var first = FirstLoneSurrogate(text);
        if (first < 0)
        {
            return text;
        }

        return string.Create(text.Length, (text, first), static (chars, state) =>
        {
            var (source, start) = state;
            source.AsSpan().CopyTo(chars);
            for (var i = start; i < chars.Length; i++)
            {
                if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
                {
                    i++;
                }
                else if (char.IsSurrogate(chars[i]))
                {
                    chars[i] = '\uFFFD';
                }
            }
        });
    }

    /// <summary>Whether the text holds a lone (unpaired) surrogate, which UTF-8 cannot encode.</summary>
    public static bool HasLoneSurrogate(string text) => FirstLoneSurrogate(text) >= 0;

    private static int FirstLoneSurrogate(ReadOnlySpan<char> text)
    {
        var offset = 0;
        while (true)
        {
            var i = text[offset..].IndexOfAnyInRange('\uD800', '\uDFFF');
            if (i < 0)
            {
                return -1;
            }

            i += offset;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                offset = i + 2;
                continue;
            }

            return i;
        }
    }

    /// <summary>Decodes UTF-8 as Vigil takes it: each invalid sequence becomes U+FFFD.</summary>
    public static string FromUtf8(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);

    /// <summary>At most <paramref name="max"/> characters of the text, never cutting a surrogate pair, with "…" when cut.</summary>
    public static string Truncate(string text, int max)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length <= max)
        {
            return text;
        }

        var cut = max > 0 && char.IsHighSurrogate(text[max - 1]) ? max - 1 : max;
        return string.Concat(text.AsSpan(0, cut), "…");
    }
}
