using System.Buffers;
using System.Text;

namespace Vigil.Core.Patterns;

// Wazuh's OSMatch ("sregex"): |-separated literal alternatives, each optionally anchored with a leading
// ^ and/or a trailing $, compared ignoring case; a leading ! negates the whole expression.
// Matching compares spans in place, so it never allocates. OrdinalIgnoreCase also folds non-ASCII letters (é, É),
// where Wazuh folds ASCII only; the vectorised search is worth that difference for log text.
// When the pattern and the input are both ASCII, OrdinalIgnoreCase is ASCII case folding: that case compares with the
// ASCII routines, and all substring alternatives are searched for in one pass.
internal sealed class OsMatchPattern : Pattern
{
    private readonly Alternative[] _alternatives;

    // Null unless every alternative is ASCII.
    private readonly Alternative[]? _asciiAnchored;
    private readonly SearchValues<string>? _asciiSubstrings;

    // The OSRegex this pattern stands for, when it is a plain OSRegex (decoders need where its match ends).
    private readonly Pattern? _osRegex;

    private OsMatchPattern(string text, bool isNegated, Alternative[] alternatives, PatternType type, Pattern? osRegex)
        : base(text, type, isNegated)
    {
        _alternatives = alternatives;
        _osRegex = osRegex;
        if (alternatives.All(a => Ascii.IsValid(a.Text)))
        {
            _asciiAnchored = [.. alternatives.Where(a => a.Anchor != Anchor.Substring)];
            var substrings = alternatives.Where(a => a.Anchor == Anchor.Substring).Select(a => a.Text).ToArray();
            _asciiSubstrings = substrings.Length > 0 ? SearchValues.Create(substrings, StringComparison.OrdinalIgnoreCase) : null;
        }
    }

    private enum Anchor : byte
    {
        Substring,
        Prefix,
        Suffix,
        Equal,
    }

    public static OsMatchPattern Create(string text, bool negate, PatternType type = PatternType.OsMatch, Pattern? osRegex = null)
    {
        var body = text;
        var isNegated = negate;
        if (body.StartsWith('!'))
        {
            body = body[1..];
            isNegated = !isNegated;
        }

        // Only the first '^' and the last '$' of an alternative are anchors; any other '^' or '$' is literal.
        var parts = body.Split('|');
        var alternatives = new Alternative[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            var isPrefix = part.StartsWith('^');
            if (isPrefix)
            {
                part = part[1..];
            }

            var isSuffix = part.EndsWith('$');
            if (isSuffix)
            {
                part = part[..^1];
            }

            var anchor = (isPrefix, isSuffix) switch
            {
                (true, true) => Anchor.Equal,
                (true, false) => Anchor.Prefix,
                (false, true) => Anchor.Suffix,
                _ => Anchor.Substring,
            };
            alternatives[i] = new Alternative(part, anchor);
        }

        return new OsMatchPattern(text, isNegated, alternatives, type, osRegex);
    }

    public override bool IsMatch(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Matches(input) != IsNegated;
    }

    public override int MatchEnd(string input, int start, List<string>? captures) =>
        _osRegex?.MatchEnd(input, start, captures) ?? base.MatchEnd(input, start, captures);

    private bool Matches(ReadOnlySpan<char> input)
    {
        if (_asciiAnchored is not null && Ascii.IsValid(input))
        {
            return MatchesAscii(input);
        }

        foreach (var alternative in _alternatives)
        {
            var text = alternative.Text.AsSpan();
            var isMatch = alternative.Anchor switch
            {
                Anchor.Equal => input.Equals(text, StringComparison.OrdinalIgnoreCase),
                Anchor.Prefix => input.StartsWith(text, StringComparison.OrdinalIgnoreCase),
                Anchor.Suffix => input.EndsWith(text, StringComparison.OrdinalIgnoreCase),
                _ => input.Contains(text, StringComparison.OrdinalIgnoreCase),
            };
            if (isMatch)
            {
                return true;
            }
        }

        return false;
    }

    private bool MatchesAscii(ReadOnlySpan<char> input)
    {
        foreach (var alternative in _asciiAnchored!)
        {
            var text = alternative.Text.AsSpan();
            var isMatch = text.Length <= input.Length && alternative.Anchor switch
            {
                Anchor.Equal => text.Length == input.Length && Ascii.EqualsIgnoreCase(input, text),
                Anchor.Prefix => Ascii.EqualsIgnoreCase(input[..text.Length], text),
                _ => Ascii.EqualsIgnoreCase(input[^text.Length..], text),
            };
            if (isMatch)
            {
                return true;
            }
        }

        return _asciiSubstrings is not null && input.ContainsAny(_asciiSubstrings);
    }

    private readonly record struct Alternative(string Text, Anchor Anchor);
}
