using Vigil.Analysis;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;

namespace Vigil.Cli;

/// <summary>Loads the configuration and rules a command needs, printing every problem as <c>file:line: error: …</c>.</summary>
internal static class ConfigLoading
{
    public static (OssecConfig Config, RuleSet Rules, IReadOnlyList<Diagnostic> Diagnostics) Load(string? configPath, IReadOnlyList<string>? ruleFiles)
    {
        var path = Path.GetFullPath(configPath ?? VigilPaths.DefaultConfig);
        var result = OssecConfigLoader.Load(path, new ConfigLoadOptions { Home = VigilPaths.Home });
        var diagnostics = new DiagnosticBag();
        diagnostics.AddRange(result.Diagnostics);
        var rules = AnalysisFactory.LoadRules(result.Config, diagnostics, ruleFiles?.Select(Path.GetFullPath).ToList());
        return (result.Config, rules, diagnostics.Items);
    }

    public static bool HasErrors(IReadOnlyList<Diagnostic> diagnostics) => diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

    public static void Print(IReadOnlyList<Diagnostic> diagnostics, TextWriter writer)
    {
        foreach (var diagnostic in diagnostics)
        {
            writer.WriteLine(diagnostic);
        }
    }
}
