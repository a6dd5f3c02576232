using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace Vigil.Core.Patterns;

// A PCRE2 pattern run by the .NET regex engine. Wazuh compiles PCRE2 with no options, so it is case-sensitive.
// A pattern runs on the linear-time engine when it can; one that needs backtracking (backreferences, lookaround,
// atomic groups) or is too large for it runs on the backtracking engine with a match timeout, and says so
// (EngineNote) so that the loader can report it.
internal sealed class RegexPattern : Pattern
{
    private const RegexOptions LinearOptions = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking;
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
        if ((regex.Options & RegexOptions.NonBacktracking) == 0)
        {
            EngineNote = $"PCRE2 '{text}' needs backtracking: it runs on the backtracking engine with a {s_pcre2Timeout.TotalMilliseconds} ms match timeout (a match that takes longer counts as no match)";
        }
    }

    // The .NET pattern actually run.
    public string RegexText => _regex.ToString();

    public static RegexPattern? CreatePcre2(string text, bool negate, out string? error)
    {
        error = null;
        var translated = Pcre2Translator.Translate(text, out error);
        if (translated is null)
        {
            error = $"invalid PCRE2 '{text}': {error}";
            return null;
        }

        if (s_cache.TryGetValue((translated, LinearOptions), out var cached) || s_cache.TryGetValue((translated, Pcre2Options), out cached))
        {
            return new RegexPattern(text, PatternType.Pcre2, negate, cached);
        }

        Regex regex;
        try
        {
            try
            {
                regex = new Regex(translated, LinearOptions);
            }
            catch (NotSupportedException)
            {
                // Backreferences, lookaround, atomic groups, or more states than the linear engine takes.
                regex = new Regex(translated, Pcre2Options, s_pcre2Timeout);
            }
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

        regex = s_cache.GetOrAdd((translated, regex.Options), regex);
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

    public override int MatchEnd(string input, int start, List<string>? captures)
    {
        ArgumentNullException.ThrowIfNull(input);
        Match match;
        try
        {
            match = _regex.Match(input, start);
        }
        catch (RegexMatchTimeoutException)
        {
            return -1;
        }

        if (!match.Success)
        {
            return -1;
        }

        if (captures is not null)
        {
            captures.Clear();
            for (var i = 1; i < match.Groups.Count; i++)
            {
                captures.Add(match.Groups[i].Success ? match.Groups[i].Value : "");
            }
        }

        return match.Index + match.Length;
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
