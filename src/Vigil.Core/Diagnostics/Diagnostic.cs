namespace Vigil.Core.Diagnostics;

/// <summary>How bad a diagnostic is: a warning loads anyway, an error does not.</summary>
public enum DiagnosticSeverity
{
    /// <summary>Loaded with a caveat (an element Vigil does not implement, a value reset to its default).</summary>
    Warning,

    /// <summary>The element or file cannot be used as written.</summary>
    Error,
}

/// <summary>One problem found in a configuration, rule, decoder or list file, located at file:line.</summary>
public sealed record Diagnostic(string File, int Line, DiagnosticSeverity Severity, string Message)
{
    /// <summary>Renders as <c>file:line: error: message</c>, the form every Vigil command prints.</summary>
    public override string ToString() =>
        $"{File}{(Line > 0 ? $":{Line}" : "")}: {(Severity == DiagnosticSeverity.Error ? "error" : "warning")}: {Message}";
}

/// <summary>Collects diagnostics while a file is read, so that every error is reported, not just the first.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];

    /// <summary>Everything reported so far, in order.</summary>
    public IReadOnlyList<Diagnostic> Items => _items;

    /// <summary>Whether any error (not warning) was reported.</summary>
    public bool HasErrors => _items.Exists(d => d.Severity == DiagnosticSeverity.Error);

    /// <summary>Reports an error at file:line.</summary>
    public void Error(string file, int line, string message) => _items.Add(new(file, line, DiagnosticSeverity.Error, message));

    /// <summary>Reports a warning at file:line.</summary>
    public void Warning(string file, int line, string message) => _items.Add(new(file, line, DiagnosticSeverity.Warning, message));

    /// <summary>Adds diagnostics found elsewhere.</summary>
    public void AddRange(IEnumerable<Diagnostic> diagnostics) => _items.AddRange(diagnostics);
}
