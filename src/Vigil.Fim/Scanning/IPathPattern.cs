using Vigil.Core.Patterns;

namespace Vigil.Fim.Scanning;

/// <summary>A compiled OSMatch expression (<c>ignore type="sregex"</c>, <c>nodiff type="sregex"</c>, <c>restrict</c>).</summary>
internal interface IPathPattern
{
    /// <summary>Whether the expression begins with <c>!</c> (a negated pattern, which never ignores directories).</summary>
    public bool IsNegated { get; }

    public bool IsMatch(string path);
}

/// <summary>Compiles OSMatch text (the default is <see cref="OsMatchPattern.Create"/>).</summary>
internal delegate IPathPattern PathPatternFactory(string expression);

/// <summary>An OSMatch expression (spec §3.10) compiled by the shared pattern library.</summary>
internal sealed class OsMatchPattern(Pattern pattern) : IPathPattern
{
    /// <summary>Whether the expression begins with <c>!</c>.</summary>
    public bool IsNegated => pattern.IsNegated;

    /// <summary>Compiles OSMatch text; OSMatch has no invalid syntax, so this does not fail.</summary>
    public static IPathPattern Create(string expression) => new OsMatchPattern(Pattern.Compile(expression, PatternType.OsMatch));

    public bool IsMatch(string path) => pattern.IsMatch(path);
}
