using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.RegularExpressions;

namespace Vigil.Core.Patterns;

/// <summary>The pattern languages of Wazuh rules.</summary>
public enum PatternType
{
    /// <summary>OSMatch (also "sregex").</summary>
    OsMatch,

    /// <summary>OSRegex.</summary>
    OsRegex,

    /// <summary>PCRE2 (case-sensitive).</summary>
    Pcre2,
}

/// <summary>A pattern that cannot be compiled.</summary>
public sealed class PatternException(string message) : VigilException(message);

/// <summary>A compiled OSMatch, OSRegex or PCRE2 pattern.</summary>
public abstract class Pattern
{
    private protected Pattern(string text, PatternType type, bool isNegated)
    {
        Text = text;
        Type = type;
        IsNegated = isNegated;
    }

    /// <summary>The pattern as written.</summary>
    public string Text { get; }

    /// <summary>Its language.</summary>
    public PatternType Type { get; }

    /// <summary>Whether a match means failure (<c>negate="yes"</c>).</summary>
    public bool IsNegated { get; }

    /// <summary>Compiles a pattern; throws <see cref="PatternException"/> when it is invalid.</summary>
    public static Pattern Compile(string text, PatternType type, bool negate = false) =>
        TryCompile(text, type, negate, out var pattern, out var error) ? pattern : throw new PatternException(error);

    /// <summary>Compiles a pattern, or says why it cannot be.</summary>
    public static bool TryCompile(string text, PatternType type, bool negate, [NotNullWhen(true)] out Pattern? pattern, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        pattern = null;
        error = null;
        try
        {
            pattern = type switch
            {
                PatternType.OsMatch => new RegexPattern(text, type, negate, OsMatchToRegex(text)),
                PatternType.OsRegex => new RegexPattern(text, type, negate, OsRegexToRegex(text)),
                _ => new RegexPattern(text, type, negate, new Regex(text, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1))),
            };
            return true;
        }
        catch (ArgumentException ex)
        {
            error = $"invalid {type} '{text}': {ex.Message}";
            return false;
        }
    }

    /// <summary>Reads a <c>type=</c> attribute: osmatch/sregex, osregex, pcre2.</summary>
    public static bool TryParseType(string? attribute, out PatternType type)
    {
        switch (attribute?.ToLowerInvariant())
        {
            case "osmatch" or "sregex":
                type = PatternType.OsMatch;
                return true;
            case "osregex":
                type = PatternType.OsRegex;
                return true;
            case "pcre2":
                type = PatternType.Pcre2;
                return true;
            default:
                type = PatternType.OsMatch;
                return false;
        }
    }

    /// <summary>Whether the input matches, honouring negation.</summary>
    public abstract bool IsMatch(string input);

    /// <summary>Matches and returns the capture groups, honouring negation.</summary>
    public virtual bool TryMatch(string input, out IReadOnlyList<string> captures)
    {
        captures = [];
        return IsMatch(input);
    }

    private static Regex OsMatchToRegex(string text)
    {
        var negated = text.StartsWith('!');
        var body = negated ? text[1..] : text;
        var alternatives = body.Split('|').Select(a =>
        {
            var start = a.StartsWith('^');
            var end = a.EndsWith('$') && a.Length > (start ? 1 : 0);
            var core = a[(start ? 1 : 0)..(end ? a.Length - 1 : a.Length)];
            return (start ? "^" : "") + Regex.Escape(core) + (end ? "$" : "");
        });
        var joined = string.Join("|", alternatives);
        return new Regex(negated ? $"^(?!.*(?:{joined}))" : joined, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline, TimeSpan.FromSeconds(1));
    }

    private static Regex OsRegexToRegex(string text)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\\')
            {
                if (i + 1 >= text.Length)
                {
                    throw new ArgumentException($"trailing backslash at offset {i}");
                }

                var n = text[++i];
                sb.Append(n switch
                {
                    'd' => "[0-9]",
                    'w' => @"[A-Za-z0-9\-@_]",
                    's' => " ",
                    'p' => @"[!""#$%&'()*+,\-.:;<=>?\[\]{|}]",
                    'W' => @"[^A-Za-z0-9\-@_]",
                    'D' => "[^0-9]",
                    'S' => "[^ ]",
                    '.' => "[\\s\\S]",
                    't' => "\\t",
                    '\\' or '(' or ')' or '$' or '|' or '<' => Regex.Escape(n.ToString()),
                    _ => throw new ArgumentException($"unknown escape '\\{n}' at offset {i - 1}"),
                });
            }
            else
            {
                sb.Append(c switch
                {
                    '^' or '$' or '|' or '(' or ')' or '+' or '*' => c.ToString(),
                    _ => Regex.Escape(c.ToString()),
                });
            }
        }

        return new Regex(sb.ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    private sealed class RegexPattern(string text, PatternType type, bool negate, Regex regex) : Pattern(text, type, negate)
    {
        public override bool IsMatch(string input) => regex.IsMatch(input) != IsNegated;
    }
}
