using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Vigil.Core.Patterns;

/// <summary>A compiled OSMatch, OSRegex or PCRE2 pattern, matched exactly as Wazuh matches it.</summary>
public abstract class Pattern
{
    private protected Pattern(string text, PatternType type, bool isNegated)
    {
        Text = text;
        Type = type;
        IsNegated = isNegated;
    }

    /// <summary>The pattern as written, including any leading <c>!</c>.</summary>
    public string Text { get; }

    /// <summary>The language the pattern is written in.</summary>
    public PatternType Type { get; }

    /// <summary>Set when the pattern runs differently from how Wazuh runs it (an engine with a match timeout): the loader reports it.</summary>
    public string? EngineNote { get; private protected set; }

    /// <summary>Whether a match is inverted (by <c>negate="yes"</c>, an OSMatch leading <c>!</c>, or an odd number of both).</summary>
    public bool IsNegated { get; }

    /// <summary>Compiles a pattern, throwing a <see cref="PatternException"/> that says what is wrong and where.</summary>
    public static Pattern Compile(string text, PatternType type, bool negate = false) =>
        Create(text, type, negate, out var error) ?? throw new PatternException(error!);

    /// <summary>Compiles a pattern, returning false and an error message instead of throwing when it is invalid.</summary>
    public static bool TryCompile(
        string text,
        PatternType type,
        bool negate,
        [NotNullWhen(true)] out Pattern? pattern,
        [NotNullWhen(false)] out string? error)
    {
        pattern = Create(text, type, negate, out error);
        return pattern is not null;
    }

    /// <summary>Reads a <c>type=</c> attribute: "osmatch" or "sregex", "osregex", "pcre2", ignoring case.</summary>
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
                type = default;
                return false;
        }
    }

    /// <summary>Whether the input matches, with negation applied.</summary>
    public abstract bool IsMatch(string input);

    /// <summary>Matches like <see cref="IsMatch"/> and returns the capture groups of the match (none when negated or for OSMatch).</summary>
    public virtual bool TryMatch(string input, out IReadOnlyList<string> captures)
    {
        captures = [];
        return IsMatch(input);
    }

    /// <summary>
    /// Matches from <paramref name="start"/> without negation and returns where the text after the match begins (what
    /// Wazuh's decoders read next: one past the last character matched), or -1 when there is no match. Captures are
    /// added to <paramref name="captures"/> when it is given.
    /// </summary>
    public virtual int MatchEnd(string input, int start, List<string>? captures)
    {
        ArgumentNullException.ThrowIfNull(input);
        return IsMatch(input[start..]) != IsNegated ? input.Length : -1;
    }

    private static bool IsPlainOsRegex(string text)
    {
        if (text.Length == 0 || text[0] == '!' || text.AsSpan().IndexOfAny("\\()+*") >= 0 || !Ascii.IsValid(text))
        {
            return false;
        }

        foreach (var alternative in text.Split('|'))
        {
            var core = alternative.AsSpan();
            core = core.StartsWith("^") ? core[1..] : core;
            core = core.EndsWith("$") ? core[..^1] : core;
            if (core.IsEmpty || core.IndexOfAny('^', '$') >= 0)
            {
                return false;
            }
        }

        return true;
    }

    private static Pattern? Create(string text, PatternType type, bool negate, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        error = null;
        switch (type)
        {
            case PatternType.OsMatch:
                return OsMatchPattern.Create(text, negate);
            case PatternType.OsRegex:
                var compiled = OsRegexPattern.Create(text, negate, out error);
                if (compiled is null)
                {
                    return null;
                }

                // Most rule fields are plain words ("virustotal", "1", "/root", "add|delete"): with no escape,
                // group or quantifier, OSRegex means exactly what OSMatch does, which matches without the engine.
                return IsPlainOsRegex(text) ? OsMatchPattern.Create(text, negate, PatternType.OsRegex, compiled) : compiled;
            case PatternType.Pcre2:
                return RegexPattern.CreatePcre2(text, negate, out error);
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "unknown pattern type");
        }
    }
}
