using Vigil.Analysis.Alerts;
using Vigil.Analysis.Decoding;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;

namespace Vigil.Analysis;

/// <summary>Builds the analysis pipeline of a configuration: decoders, the rule tree, the alert writer.</summary>
internal static class AnalysisFactory
{
    /// <summary>Loads the rules a configuration names (or <paramref name="ruleFiles"/> instead), reporting every problem.</summary>
    public static RuleSet LoadRules(OssecConfig config, DiagnosticBag diagnostics, IReadOnlyList<string>? ruleFiles = null)
    {
        var decoderFiles = config.Ruleset.DecoderDirs.Select(config.ResolvePath).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.xml")).Concat(config.Ruleset.DecoderFiles).ToList();
        if (decoderFiles.Count > 0)
        {
            diagnostics.Warning(config.SourcePath, 0,
                $"{decoderFiles.Count} decoder file(s) under <decoder_dir>/<decoder_include> are not read: Vigil uses its built-in decoders ({string.Join(", ", DecoderSet.BuiltIn.Names)}); decoder files are not read");
        }

        return RuleSet.Load(config, ruleFiles ?? RuleSet.RuleFilesOf(config), DecoderSet.BuiltIn, diagnostics);
    }

    public static AlertContext ContextOf(OssecConfig config) => new(
        System.Net.Dns.GetHostName(),
        config.Cluster.Disabled ? null : config.Cluster.Name,
        config.Cluster.Disabled ? null : config.Cluster.NodeName);

    public static AnalysisPipeline Create(OssecConfig config, RuleSet rules, AlertFileWriter writer, TimeProvider timeProvider) =>
        new(config, rules, DecoderSet.BuiltIn, writer, ContextOf(config), timeProvider);
}
