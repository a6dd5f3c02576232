namespace Vigil.Intel.Selection;

/// <summary>
/// The subset of Wazuh's OSMatch that <c>event_location</c> needs: case-insensitive substring alternatives
/// separated by <c>|</c>, each optionally anchored with <c>^</c> and <c>$</c>, and a leading <c>!</c> that negates
/// the whole pattern. Kept private to this library so that it builds on its own; the shared pattern compiler in
/// Vigil.Core can replace it one for one.
/// </summary>
internal sealed class OsMatchPattern
{
    private readonly Alternative[] _alternatives;
    private readonly bool _isNegated;

    private OsMatchPattern(Alternative[] alternatives, bool isNegated)
    {
        _alternatives = alternatives;
        _isNegated = isNegated;
    }

    public static OsMatchPattern Parse(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var isNegated = pattern.StartsWith('!');
        var body = isNegated ? pattern[1..] : pattern;
        var alternatives = body.Split('|').Select(Alternative.Parse).ToArray();
        return new OsMatchPattern(alternatives, isNegated);
    }

    public bool IsMatch(string text)
    {
        var matched = false;
        foreach (var alternative in _alternatives)
        {
            if (alternative.IsMatch(text))
            {
                matched = true;
                break;
            }
        }

        return matched != _isNegated;
    }

    private sealed record Alternative(string Text, bool IsStartAnchored, bool IsEndAnchored)
    {
        public static Alternative Parse(string raw)
        {
            var start = raw.StartsWith('^');
            var end = raw.Length > (start ? 1 : 0) && raw.EndsWith('$');
            var text = raw[(start ? 1 : 0)..(end ? raw.Length - 1 : raw.Length)];
            return new Alternative(text, start, end);
        }

        public bool IsMatch(string value) => (IsStartAnchored, IsEndAnchored) switch
        {
            (true, true) => value.Equals(Text, StringComparison.OrdinalIgnoreCase),
            (true, false) => value.StartsWith(Text, StringComparison.OrdinalIgnoreCase),
            (false, true) => value.EndsWith(Text, StringComparison.OrdinalIgnoreCase),
            _ => value.Contains(Text, StringComparison.OrdinalIgnoreCase),
        };
    }
}
