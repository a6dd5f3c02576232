namespace Vigil.Core.Patterns;

// Wazuh's OSMatch ("sregex"): |-separated literal alternatives, each optionally anchored with a leading
// ^ and/or a trailing $, compared ignoring case; a leading ! negates the whole expression.
// Matching compares spans in place, so it never allocates. OrdinalIgnoreCase also folds non-ASCII letters (é, É),
// where Wazuh folds ASCII only; the vectorised search is worth that difference for log text.
internal sealed class OsMatchPattern : Pattern
{
    private readonly Alternative[] _alternatives;

    private OsMatchPattern(string text, bool isNegated, Alternative[] alternatives, PatternType type)
        : base(text, type, isNegated)
    {
        _alternatives = alternatives;
    }

    private enum Anchor : byte
    {
        Substring,
        Prefix,
        Suffix,
        Equal,
    }

    public static OsMatchPattern Create(string text, bool negate, PatternType type = PatternType.OsMatch)
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

        return new OsMatchPattern(text, isNegated, alternatives, type);
    }

    public override bool IsMatch(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Matches(input) != IsNegated;
    }

    private bool Matches(ReadOnlySpan<char> input)
    {
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

    private readonly record struct Alternative(string Text, Anchor Anchor);
}
