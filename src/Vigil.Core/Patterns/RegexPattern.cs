using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace Vigil.Core.Patterns;

// An OSRegex (translated) or PCRE2 pattern run by the .NET regex engine.
internal sealed class RegexPattern : Pattern
{
    // OSRegex never needs backreferences or lookaround, so it runs on the linear-time engine and cannot hang.
    private const RegexOptions OsRegexOptions = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking;

    // PCRE2 needs the backtracking engine (backreferences, lookaround); Wazuh compiles it with no options, so it is case-sensitive.
    private const RegexOptions Pcre2Options = RegexOptions.CultureInvariant;

    // Bounds a pathological PCRE2 pattern; a timed-out match counts as no match so one event cannot stall the engine.
    private static readonly TimeSpan s_pcre2Timeout = TimeSpan.FromMilliseconds(100);

    // Rulesets repeat the same expressions across many rules; one Regex per distinct pattern is enough (Regex is thread-safe).
    private static readonly ConcurrentDictionary<(string Pattern, RegexOptions Options), Regex> s_cache = new();

    private readonly Regex _regex;

    private RegexPattern(string text, PatternType type, bool isNegated, Regex regex)
        : base(text, type, isNegated)
    {
        _regex = regex;
    }

    // The .NET pattern actually run (the OSRegex translation, or the PCRE2 text itself).
    public string RegexText => _regex.ToString();

    public static RegexPattern CreateOsRegex(string text, string translated, bool negate)
    {
        var regex = s_cache.GetOrAdd((translated, OsRegexOptions), static key => new Regex(key.Pattern, key.Options));
        return new RegexPattern(text, PatternType.OsRegex, negate, regex);
    }

    public static RegexPattern? CreatePcre2(string text, bool negate, out string? error)
    {
        error = null;
        if (s_cache.TryGetValue((text, Pcre2Options), out var cached))
        {
            return new RegexPattern(text, PatternType.Pcre2, negate, cached);
        }

        Regex regex;
        try
        {
            regex = new Regex(text, Pcre2Options, s_pcre2Timeout);
        }
        catch (RegexParseException ex)
        {
            error = $"invalid PCRE2 '{text}': {Describe(ex.Error)} at offset {ex.Offset}";
            return null;
        }
        catch (ArgumentException ex)
        {
            error = $"invalid PCRE2 '{text}': {ex.Message}";
            return null;
        }

        regex = s_cache.GetOrAdd((text, Pcre2Options), regex);
        return new RegexPattern(text, PatternType.Pcre2, negate, regex);
    }

    public override bool IsMatch(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        bool isMatch;
        try
        {
            isMatch = _regex.IsMatch(input);
        }
        catch (RegexMatchTimeoutException)
        {
            isMatch = false;
        }

        return isMatch != IsNegated;
    }

    public override bool TryMatch(string input, out IReadOnlyList<string> captures)
    {
        ArgumentNullException.ThrowIfNull(input);
        captures = [];
        Match match;
        try
        {
            match = _regex.Match(input);
        }
        catch (RegexMatchTimeoutException)
        {
            match = Match.Empty;
        }

        if (IsNegated)
        {
            return !match.Success;
        }

        if (!match.Success)
        {
            return false;
        }

        var groups = match.Groups;
        if (groups.Count > 1)
        {
            // Only groups that took part: in OSRegex these are exactly the groups of the alternative that matched,
            // which is what Wazuh returns (each alternative numbers its own groups).
            var values = new List<string>(groups.Count - 1);
            for (var i = 1; i < groups.Count; i++)
            {
                if (groups[i].Success)
                {
                    values.Add(groups[i].Value);
                }
            }

            captures = values;
        }

        return true;
    }

    private static string Describe(RegexParseError error)
    {
        // InsufficientClosingParentheses -> "insufficient closing parentheses"
        var name = error.ToString();
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                builder.Append(' ');
            }

            builder.Append(char.ToLowerInvariant(name[i]));
        }

        return builder.ToString();
    }
}
