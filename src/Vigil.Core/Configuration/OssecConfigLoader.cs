using Vigil.Core.Diagnostics;

namespace Vigil.Core.Configuration;

/// <summary>Settings for reading an <c>ossec.conf</c>.</summary>
public sealed record ConfigLoadOptions
{
    /// <summary>The install root relative paths resolve against; defaults to the parent of the file's directory.</summary>
    public string? Home { get; init; }

    /// <summary>Reads environment variables (secrets such as <c>VIGIL_VT_API_KEY</c>, <c>$VAR</c> in paths).</summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;
}

/// <summary>A configuration and everything found wrong with it.</summary>
public sealed record ConfigLoadResult(OssecConfig Config, IReadOnlyList<Diagnostic> Diagnostics)
{
    /// <summary>Whether any diagnostic is an error.</summary>
    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
}

/// <summary>Reads <c>ossec.conf</c> the way Wazuh does, for the parts of the pipeline Vigil implements.</summary>
public static partial class OssecConfigLoader
{
}
