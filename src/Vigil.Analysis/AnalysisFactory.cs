using Vigil.Analysis.Alerts;
using Vigil.Analysis.Decoding;
using Vigil.Analysis.Decoding.Xml;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;

namespace Vigil.Analysis;

/// <summary>Builds the analysis pipeline of a configuration: decoders, the rule tree, the alert writer.</summary>
internal static class AnalysisFactory
{
    /// <summary>Loads the decoders and rules a configuration names (or <paramref name="ruleFiles"/> instead), reporting every problem.</summary>
    public static RuleSet LoadRules(OssecConfig config, DiagnosticBag diagnostics, IReadOnlyList<string>? ruleFiles = null) =>
        RuleSet.Load(config, ruleFiles ?? RuleSet.RuleFilesOf(config), LoadDecoders(config, diagnostics), diagnostics);

    /// <summary>The decoder files a configuration loads, in order: each decoder_dir's *.xml by name (less decoder_exclude), then decoder_include files.</summary>
    public static IReadOnlyList<string> DecoderFilesOf(OssecConfig config)
    {
        var ruleset = config.Ruleset;
        var dirs = ruleset.IsDefault ? ["ruleset/decoders"] : ruleset.DecoderDirs;
        var files = new List<string>();
        foreach (var dir in dirs.Select(config.ResolvePath).Where(Directory.Exists))
        {
            files.AddRange(Directory.EnumerateFiles(dir, "*.xml")
                .Where(f => !ruleset.DecoderExcludes.Contains(Path.GetFileName(f)) && !ruleset.DecoderExcludes.Contains(f))
                .Order(StringComparer.Ordinal));
        }

        files.AddRange(ruleset.DecoderFiles.Select(config.ResolvePath).Where(f => !files.Contains(f)));
        return files;
    }

    /// <summary>The built-in decoders plus those of the configured decoder files.</summary>
    public static DecoderSet LoadDecoders(OssecConfig config, DiagnosticBag diagnostics)
    {
        var reader = new XmlDecoderFileReader(diagnostics);
        var decoders = new List<XmlDecoder>();
        foreach (var file in DecoderFilesOf(config))
        {
            if (!File.Exists(file))
            {
                diagnostics.Error(file, 0, "decoder file not found");
                continue;
            }

            decoders.AddRange(reader.Read(file));
        }

        return decoders.Count == 0 ? DecoderSet.BuiltIn : DecoderSet.BuiltIn.With(XmlDecoderTree.Build(decoders, reader.Refused, diagnostics));
    }

    public static AlertContext ContextOf(OssecConfig config) => new(
        System.Net.Dns.GetHostName(),
        config.Cluster.Disabled ? null : config.Cluster.Name,
        config.Cluster.Disabled ? null : config.Cluster.NodeName);

    public static AnalysisPipeline Create(OssecConfig config, RuleSet rules, AlertFileWriter writer, TimeProvider timeProvider) =>
        new(config, rules, rules.Decoders, writer, ContextOf(config), timeProvider);
}
