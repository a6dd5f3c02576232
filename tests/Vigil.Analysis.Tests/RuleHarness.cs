using Microsoft.Extensions.Time.Testing;
using Vigil.Analysis.Alerts;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;
using Vigil.Tests.Common;

namespace Vigil.Analysis.Tests;

/// <summary>The built-in ruleset plus test rules, on a fake clock, with alerts kept in memory.</summary>
internal sealed class RuleHarness : IDisposable
{
    private readonly TempDirectory _temp = new("vigil-rules");

    public RuleHarness(string? extraRules = null, OssecConfig? config = null, bool builtIn = true, IReadOnlyList<string>? lists = null, string? decoders = null)
    {
        var files = new List<string>();
        if (builtIn)
        {
            files.AddRange(Directory.GetFiles(RepositoryPaths.Get("ruleset", "rules"), "*.xml").Order(StringComparer.Ordinal));
        }

        if (extraRules is not null)
        {
            RulesFile = _temp.WriteFile("local_rules.xml", extraRules);
            files.Add(RulesFile);
        }

        Config = (config ?? new OssecConfig()) with
        {
            Home = RepositoryPaths.Root,
            Ruleset = new RulesetOptions { IsDefault = false, Lists = lists ?? [] },
        };
        var decoderSet = Vigil.Analysis.Decoding.DecoderSet.BuiltIn;
        if (decoders is not null)
        {
            DecodersFile = _temp.WriteFile("local_decoder.xml", decoders);
            var reader = new Vigil.Analysis.Decoding.Xml.XmlDecoderFileReader(Diagnostics);
            var read = reader.Read(DecodersFile);
            decoderSet = decoderSet.With(Vigil.Analysis.Decoding.Xml.XmlDecoderTree.Build(read, reader.Refused, Diagnostics));
        }

        Rules = RuleSet.Load(Config, files, decoderSet, Diagnostics);
        Pipeline = AnalysisFactory.Create(Config, Rules, AlertFileWriter.Detached(), Clock);
    }

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    public DiagnosticBag Diagnostics { get; } = new();

    public OssecConfig Config { get; }

    public RuleSet Rules { get; }

    public AnalysisPipeline Pipeline { get; }

    public string? RulesFile { get; }

    public string? DecodersFile { get; }

    /// <summary>Processes a <c>Q:LOCATION:MESSAGE</c> line.</summary>
    public AnalysisResult Process(string line) => Pipeline.Process(EventMessage.TryParse(line) ?? throw new ArgumentException(line));

    /// <summary>The id of the rule an event ends on, or null when it produces no alert.</summary>
    public int? RuleOf(string line) => Process(line).Alert?.Rule.Id;

    public void Dispose() => _temp.Dispose();
}
