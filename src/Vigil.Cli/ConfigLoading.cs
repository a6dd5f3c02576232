using Vigil.Analysis;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;

namespace Vigil.Cli;

/// <summary>Loads the configuration and rules a command needs, printing every problem as <c>file:line: error: …</c>.</summary>
internal static class ConfigLoading
{
    /// <summary>Loads <paramref name="configPath"/> (default: config/ossec.conf under the home); relative paths in it
    /// resolve against <paramref name="home"/> (default: <see cref="VigilPaths.Home"/>).</summary>
    public static (OssecConfig Config, RuleSet Rules, IReadOnlyList<Diagnostic> Diagnostics) Load(string? configPath, IReadOnlyList<string>? ruleFiles, string? home = null)
    {
        home ??= VigilPaths.Home;
        var path = Path.GetFullPath(configPath ?? Path.Combine(home, "config", "ossec.conf"));
        var result = OssecConfigLoader.Load(path, new ConfigLoadOptions { Home = home });
        var diagnostics = new DiagnosticBag();
        diagnostics.AddRange(result.Diagnostics);
        var rules = AnalysisFactory.LoadRules(result.Config, diagnostics, ruleFiles?.Select(Path.GetFullPath).ToList());
        return (result.Config, rules, diagnostics.Items);
    }

    /// <summary>
    /// The directories syscheck monitors, from the ossec.conf under a home (Vigil's config/ or Wazuh's etc/); empty when
    /// there is none or it does not load, so a removal outside an explicit allow-list is refused.
    /// </summary>
    public static IReadOnlyList<string> MonitoredDirectories(string home)
    {
        var path = new[] { Path.Combine(home, "config", "ossec.conf"), Path.Combine(home, "etc", "ossec.conf") }.FirstOrDefault(File.Exists);
        if (path is null)
        {
            return [];
        }

        var result = OssecConfigLoader.Load(path, new ConfigLoadOptions { Home = home });
        return result.HasErrors ? [] : [.. result.Config.Syscheck.Directories.Select(d => d.Path)];
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
