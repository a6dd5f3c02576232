namespace Vigil.Fim.Scanning;

/// <summary>A compiled OSMatch expression (<c>ignore type="sregex"</c>, <c>nodiff type="sregex"</c>, <c>restrict</c>).</summary>
internal interface IPathPattern
{
    /// <summary>Whether the expression begins with <c>!</c> (a negated pattern, which never ignores directories).</summary>
    public bool IsNegated { get; }

    public bool IsMatch(string path);
}

/// <summary>Compiles OSMatch text; the default is <see cref="OsMatchPattern"/> until the shared pattern class replaces it.</summary>
internal delegate IPathPattern PathPatternFactory(string expression);

/// <summary>
/// A minimal OSMatch (spec §3.10): alternatives separated by <c>|</c>, each a case-insensitive substring, with
/// <c>^</c> anchoring at the start and <c>$</c> at the end; a leading <c>!</c> negates the whole expression.
/// </summary>
internal sealed class OsMatchPattern : IPathPattern
{
    private readonly (string Text, bool Start, bool End)[] _alternatives;

    public OsMatchPattern(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        IsNegated = expression.StartsWith('!');
        var body = IsNegated ? expression[1..] : expression;
        _alternatives = [.. body.Split('|').Select(Parse)];
    }

    public bool IsNegated { get; }

    public static IPathPattern Create(string expression) => new OsMatchPattern(expression);

    public bool IsMatch(string path) => _alternatives.Any(a => Matches(a, path)) != IsNegated;

    private static (string Text, bool Start, bool End) Parse(string alternative)
    {
        var start = alternative.StartsWith('^');
        var end = alternative.Length > (start ? 1 : 0) && alternative.EndsWith('$');
        var text = alternative[(start ? 1 : 0)..(end ? alternative.Length - 1 : alternative.Length)];
        return (text, start, end);
    }

    private static bool Matches((string Text, bool Start, bool End) a, string path) => (a.Start, a.End) switch
    {
        (true, true) => path.Equals(a.Text, StringComparison.OrdinalIgnoreCase),
        (true, false) => path.StartsWith(a.Text, StringComparison.OrdinalIgnoreCase),
        (false, true) => path.EndsWith(a.Text, StringComparison.OrdinalIgnoreCase),
        _ => path.Contains(a.Text, StringComparison.OrdinalIgnoreCase),
    };
}
