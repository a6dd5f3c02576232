using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Vigil.Core.Patterns;

// Rewrites the PCRE2 syntax .NET does not read into .NET syntax of the same meaning; everything else is passed
// through (the two dialects agree on it):
// - leading option verbs such as (*UTF), (*UCP), (*CRLF), (*LIMIT_MATCH=n): .NET strings are already Unicode;
// - \N{U+hhhh} and \x{hhhh} code points (above U+FFFF as a surrogate pair);
// - (?P<name>…) and (?P=name) named groups;
// - \Q…\E quoted text; \h \H (horizontal space) and \R (any line break).
internal static class Pcre2Translator
{
    public static string? Translate(string pattern, out string? error)
    {
        error = null;
        var builder = new StringBuilder(pattern.Length + 8);
        var i = 0;
        while (pattern.AsSpan(i).StartsWith("(*") && pattern.IndexOf(')', i) is var close and > 0
               && IsVerb(pattern.AsSpan(i + 2, close - i - 2)))
        {
            i = close + 1;
        }

        // A leading (?…U…) makes every quantifier lazy and '?' after one greedy again; .NET has no such option.
        var ungreedy = false;
        if (pattern.AsSpan(i).StartsWith("(?") && pattern.IndexOf(')', i) is var flagsEnd and > 0)
        {
            var flags = pattern[(i + 2)..flagsEnd];
            if (flags.Length > 0 && flags.All(f => "imsxnUJ-".Contains(f, StringComparison.Ordinal)) && flags.Contains('U', StringComparison.Ordinal))
            {
                ungreedy = true;
                var rest = flags.Replace("U", "", StringComparison.Ordinal).Replace("J", "", StringComparison.Ordinal);
                if (rest.Length > 0 && rest != "-")
                {
                    builder.Append("(?").Append(rest).Append(')');
                }

                i = flagsEnd + 1;
            }
        }

        var inClass = false;
        for (; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (ungreedy && !inClass && IsQuantifierEnd(pattern, i))
            {
                builder.Append(c);
                if (i + 1 < pattern.Length && pattern[i + 1] == '?')
                {
                    i++;
                }
                else if (i + 1 < pattern.Length && pattern[i + 1] == '+')
                {
                    builder.Append('+');
                    i++;
                }
                else
                {
                    builder.Append('?');
                }

                continue;
            }

            if (c == '\\' && i + 1 < pattern.Length)
            {
                var next = pattern[i + 1];
                switch (next)
                {
                    case 'N' when i + 3 < pattern.Length && pattern[i + 2] == '{' && pattern.AsSpan(i + 3).StartsWith("U+"):
                    case 'x' when i + 2 < pattern.Length && pattern[i + 2] == '{':
                        var open = i + 2;
                        var end = pattern.IndexOf('}', open);
                        var digits = end < 0 ? "" : pattern[(open + 1)..end];
                        if (next == 'N')
                        {
                            digits = digits.Length > 2 ? digits[2..] : "";
                        }

                        if (!int.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var codePoint)
                            || codePoint > 0x10FFFF || (codePoint is >= 0xD800 and <= 0xDFFF))
                        {
                            error = $"bad code point '{pattern[i..(end < 0 ? pattern.Length : end + 1)]}' at offset {i}";
                            return null;
                        }

                        foreach (var unit in char.ConvertFromUtf32(codePoint))
                        {
                            builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)unit:X4}");
                        }

                        i = end;
                        continue;
                    case 'Q':
                        var quoteEnd = pattern.IndexOf("\\E", i + 2, StringComparison.Ordinal);
                        var quoted = quoteEnd < 0 ? pattern[(i + 2)..] : pattern[(i + 2)..quoteEnd];
                        builder.Append(inClass ? EscapeInClass(quoted) : Regex.Escape(quoted));
                        i = quoteEnd < 0 ? pattern.Length : quoteEnd + 1;
                        continue;
                    case 'E':
                        i++;
                        continue;
                    case 'h':
                        builder.Append(inClass ? "\\t \\u00A0" : "[\\t \\u00A0]");
                        i++;
                        continue;
                    case 'H' when !inClass:
                        builder.Append("[^\\t \\u00A0]");
                        i++;
                        continue;
                    case 'R' when !inClass:
                        builder.Append("(?:\\r\\n|[\\n\\v\\f\\r\\u0085\\u2028\\u2029])");
                        i++;
                        continue;
                    default:
                        builder.Append(c).Append(next);
                        i++;
                        continue;
                }
            }

            if (inClass)
            {
                if (c == ']')
                {
                    inClass = false;
                }

                builder.Append(c);
                continue;
            }

            if (c == '[')
            {
                inClass = true;
                builder.Append(c);

                // A ']' first in a class (or after '^') is a literal.
                if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                {
                    builder.Append('^');
                    i++;
                }

                if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                {
                    builder.Append("\\]");
                    i++;
                }

                continue;
            }

            if (c == '(' && pattern.AsSpan(i).StartsWith("(?P<"))
            {
                builder.Append("(?<");
                i += 3;
                continue;
            }

            if (c == '(' && pattern.AsSpan(i).StartsWith("(?P=") && pattern.IndexOf(')', i) is var nameEnd and > 0)
            {
                builder.Append("\\k<").Append(pattern, i + 4, nameEnd - i - 4).Append('>');
                i = nameEnd;
                continue;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    // Whether pattern[i] ends a quantifier: '*', '+', '?' (not right after '(' or another quantifier), or a '}' closing {n}, {n,}, {n,m}.
    private static bool IsQuantifierEnd(string pattern, int i)
    {
        if (i > 0 && pattern[i - 1] == '\\' && (i < 2 || pattern[i - 2] != '\\'))
        {
            return false;
        }

        switch (pattern[i])
        {
            case '*' or '+':
                return i > 0 && pattern[i - 1] is not ('(' or '|');
            case '?':
                return i > 0 && pattern[i - 1] is not ('(' or '|' or '*' or '+' or '?' or '}');
            case '}':
                var open = pattern.LastIndexOf('{', i);
                return open > 0 && pattern[(open + 1)..i] is var inner && inner.Length > 0 && inner.All(ch => char.IsAsciiDigit(ch) || ch == ',') && char.IsAsciiDigit(inner[0]);
            default:
                return false;
        }
    }

    private static bool IsVerb(ReadOnlySpan<char> verb)
    {
        if (verb.IsEmpty)
        {
            return false;
        }

        foreach (var c in verb)
        {
            if (!(char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c is '_' or '='))
            {
                return false;
            }
        }

        return true;
    }

    private static string EscapeInClass(string text)
    {
        var builder = new StringBuilder(text.Length * 2);
        foreach (var c in text)
        {
            if (c is '\\' or ']' or '[' or '^' or '-')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
