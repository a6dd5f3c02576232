using System.Text;

namespace Vigil.Core.Patterns;

// Translates Wazuh's OSRegex into an equivalent .NET regular expression, character by character, so that nothing
// in the input pattern keeps a .NET meaning it does not have in OSRegex.
// The syntax follows Wazuh's "Regular expression syntax" documentation:
// - \w \W \d \D \s \S \p \t \. are classes, \\ \( \) \$ \| \< are literals, any other escape is an error.
// - + and * repeat only the class escape right before them; the documentation says bare characters
//   cannot be repeated, so a+, )+ or \$+ are rejected rather than guessed at.
// - ^ is an anchor at the start of an alternative and $ at its end; the documentation says there is
//   no literal caret, and a literal dollar is written \$, so either one elsewhere is rejected.
// - ( ) capture and cannot nest, hold |, or be repeated.
// - Every other character is literal, including . ? [ ] { }. Letters match either case (ASCII only,
//   like Wazuh's case map), so the regex itself is built without IgnoreCase.
// - An alternative that is only $ matches only the empty string, as Wazuh's own unit tests expect.
// Wazuh's engine gives up on some matches that need backtracking (its documentation's example: \p*\d*\s*\w*:
// does not match ":"); the translated regex finds a match whenever one exists, so it matches a superset in such
// corner cases.
internal static class OsRegexTranslator
{
    private const string WordClass = "[A-Za-z0-9@_\\-]";
    private const string NotWordClass = "[^A-Za-z0-9@_\\-]";

    // ! " # $ % & ' ( ) * + , - . : ; < = > ? [ ] { | }
    private const string PunctuationClass = "[!\"#$%&'()*+,\\-.:;<=>?\\[\\]{|}]";

    // Returns the .NET pattern, or null with an error such as invalid OSRegex '\q': unknown escape '\q' at offset 0.
    public static string? Translate(string text, out string? error)
    {
        var builder = new StringBuilder(text.Length * 4);
        var alternativeStart = 0;
        var groupStart = -1;
        var previous = Element.Nothing;
        error = null;

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '\\':
                    if (i + 1 == text.Length)
                    {
                        return Fail(text, $"trailing backslash at offset {i}", out error);
                    }

                    var escaped = text[++i];
                    var translated = TranslateEscape(escaped, out var isClass);
                    if (translated is null)
                    {
                        return Fail(text, $"unknown escape '\\{escaped}' at offset {i - 1}", out error);
                    }

                    builder.Append(translated);
                    previous = isClass ? Element.Class : Element.Literal;
                    break;

                case '+' or '*':
                    if (previous != Element.Class)
                    {
                        var reason = previous switch
                        {
                            Element.Nothing => $"quantifier '{c}' at offset {i} has nothing to repeat",
                            Element.Quantifier => $"quantifier '{c}' at offset {i} follows another quantifier",
                            _ => $"quantifier '{c}' at offset {i} can only follow a class escape (\\w \\W \\d \\D \\s \\S \\p \\t \\.)",
                        };
                        return Fail(text, reason, out error);
                    }

                    builder.Append(c);
                    previous = Element.Quantifier;
                    break;

                case '(':
                    if (groupStart >= 0)
                    {
                        return Fail(text, $"nested group at offset {i} (group already open at offset {groupStart})", out error);
                    }

                    groupStart = i;
                    builder.Append('(');
                    previous = Element.Nothing;
                    break;

                case ')':
                    if (groupStart < 0)
                    {
                        return Fail(text, $"unbalanced ')' at offset {i}", out error);
                    }

                    groupStart = -1;
                    builder.Append(')');
                    previous = Element.Literal;
                    break;

                case '|':
                    if (groupStart >= 0)
                    {
                        return Fail(text, $"'|' at offset {i} inside the group opened at offset {groupStart} (alternation cannot be grouped)", out error);
                    }

                    builder.Append('|');
                    alternativeStart = i + 1;
                    previous = Element.Nothing;
                    break;

                case '^':
                    if (i != alternativeStart)
                    {
                        return Fail(text, $"'^' at offset {i} is only an anchor at the start of an alternative", out error);
                    }

                    builder.Append("\\A");
                    previous = Element.Nothing;
                    break;

                case '$':
                    var isEndOfAlternative = i + 1 == text.Length || text[i + 1] == '|';
                    if (!isEndOfAlternative || groupStart >= 0)
                    {
                        return Fail(text, $"'$' at offset {i} is only an anchor at the end of an alternative (write '\\$' for a literal dollar)", out error);
                    }

                    // A lone '$' matches only empty input in Wazuh (its engine never tries the position after the last character).
                    builder.Append(i == alternativeStart ? "\\A\\z" : "\\z");
                    previous = Element.Literal;
                    break;

                default:
                    AppendLiteral(builder, c);
                    previous = Element.Literal;
                    break;
            }
        }

        if (groupStart >= 0)
        {
            return Fail(text, $"unclosed group opened at offset {groupStart}", out error);
        }

        return builder.ToString();
    }

    private static string? TranslateEscape(char escaped, out bool isClass)
    {
        isClass = true;
        switch (escaped)
        {
            case 'w': return WordClass;
            case 'W': return NotWordClass;
            case 'd': return "[0-9]";
            case 'D': return "[^0-9]";
            case 's': return "[ ]";
            case 'S': return "[^ ]";
            case 'p': return PunctuationClass;
            case 't': return "\\t";
            case '.': return "[\\s\\S]";
        }

        isClass = false;
        return escaped switch
        {
            '\\' => "\\\\",
            '(' => "\\(",
            ')' => "\\)",
            '$' => "\\$",
            '|' => "\\|",
            '<' => "<",
            _ => null,
        };
    }

    private static void AppendLiteral(StringBuilder builder, char c)
    {
        if (char.IsAsciiLetter(c))
        {
            builder.Append('[').Append(char.ToUpperInvariant(c)).Append(char.ToLowerInvariant(c)).Append(']');
        }
        else if (char.IsAsciiDigit(c) || c == '_' || c > '\x7f' || char.IsControl(c))
        {
            builder.Append(c);
        }
        else
        {
            // ASCII punctuation and space: a backslash before a non-word character always means that character in .NET
            // ('_' is a word character, so it is appended bare above: "\_" is an invalid .NET escape).
            builder.Append('\\').Append(c);
        }
    }

    private enum Element
    {
        Nothing,
        Class,
        Quantifier,
        Literal,
    }

    private static string? Fail(string text, string reason, out string? error)
    {
        error = $"invalid OSRegex '{text}': {reason}";
        return null;
    }
}
