using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;

namespace Vigil.Core.Tests.Configuration;

/// <summary>Loads configuration text with a fixed home and a fake environment, never the real one.</summary>
internal static class ConfigTest
{
    public const string FileName = "ossec.conf";

    public static ConfigLoadResult Load(string xml, IReadOnlyDictionary<string, string>? environment = null) =>
        OssecConfigLoader.LoadFromString(xml, FileName, Options(environment));

    /// <summary>Wraps blocks in one <c>&lt;ossec_config&gt;</c> root that starts on line 1.</summary>
    public static ConfigLoadResult LoadBlocks(string blocks, IReadOnlyDictionary<string, string>? environment = null) =>
        Load($"<ossec_config>\n{blocks}\n</ossec_config>\n", environment);

    public static ConfigLoadOptions Options(IReadOnlyDictionary<string, string>? environment = null) => new()
    {
        Home = "/opt/vigil",
        GetEnvironmentVariable = name => environment is not null && environment.TryGetValue(name, out var value) ? value : null,
    };

    public static string[] Errors(this ConfigLoadResult result) =>
        result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToArray();

    public static string[] Warnings(this ConfigLoadResult result) =>
        result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning).Select(d => d.ToString()).ToArray();

    /// <summary>Asserts exactly one error, and returns it rendered as <c>file:line: error: message</c>.</summary>
    public static string SingleError(this ConfigLoadResult result) => Assert.Single(result.Errors());

    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Vigil.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Vigil.slnx not found above the test assembly");
    }
}
