using Vigil.Analysis.Alerts;
using Vigil.Analysis.Decoding;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Events;

namespace Vigil.Analysis;

/// <summary>What one event became: the alert (when a rule alerted), whether it was written, and the active responses.</summary>
internal sealed record AnalysisResult(Alert? Alert, string? AlertJson, bool IsWritten, IReadOnlyList<ActiveResponseCommand> ActiveResponses)
{
    public static AnalysisResult None { get; } = new(null, null, false, []);
}

/// <summary>
/// analysisd in one object: decode → rules → alert (written when its level reaches log_alert_level) → active responses.
/// Not thread-safe: one pipeline serves one consumer loop.
/// </summary>
internal sealed class AnalysisPipeline(
    OssecConfig config,
    RuleSet rules,
    DecoderSet decoders,
    AlertFileWriter writer,
    AlertContext context,
    TimeProvider timeProvider)
{
    private readonly RuleEngine _engine = new(rules, timeProvider);
    private const int MaxLocations = 4096;
    private readonly ActiveResponseMessages _activeResponses = new(config);
    private readonly Dictionary<string, (AgentIdentity? Agent, string Location)> _locations = new(StringComparer.Ordinal);

    public RuleSet Rules => rules;

    /// <summary>The rules tried for the last event, when tracing is on (logtest).</summary>
    public List<(Rule Rule, bool Matched)>? Trace
    {
        get => _engine.Trace;
        set => _engine.Trace = value;
    }

    public AnalysisEvent Decode(EventMessage message)
    {
        var analysisEvent = new AnalysisEvent(message, SplitLocation(message), timeProvider.GetUtcNow());
        decoders.Decode(analysisEvent);
        return analysisEvent;
    }

    // Events come from few locations: each is split into agent and location once, not per event.
    private (AgentIdentity? Agent, string Location) SplitLocation(EventMessage message)
    {
        if (!_locations.TryGetValue(message.Location, out var split))
        {
            if (_locations.Count >= MaxLocations)
            {
                _locations.Clear();
            }

            split = message.SplitLocation();
            _locations.Add(message.Location, split);
        }

        return split;
    }

    public AnalysisResult Process(EventMessage message) => Process(Decode(message));

    /// <summary>Runs the rules without producing an alert (benchmarks measure the stages apart).</summary>
    internal Rules.RuleMatch? MatchOnly(AnalysisEvent analysisEvent) => _engine.Match(analysisEvent);

    public AnalysisResult Process(AnalysisEvent analysisEvent)
    {
        if (analysisEvent.IsSuppressed || _engine.Match(analysisEvent) is not { } match)
        {
            return AnalysisResult.None;
        }

        var rule = match.Rule;
        var alert = new Alert
        {
            Event = analysisEvent,
            Rule = rule,
            Description = rule.DescriptionTemplate.Render(analysisEvent),
            FiredTimes = match.FiredTimes,
            IsMail = !rule.Options.HasFlag(RuleOptions.NoEmailAlert)
                && (rule.Level >= config.Alerts.EmailAlertLevel || rule.Options.HasFlag(RuleOptions.AlertByEmail)),
            PreviousEvents = match.PreviousEvents,
        };

        var logged = !rule.Options.HasFlag(RuleOptions.NoLog)
            && (rule.Level >= config.Alerts.LogAlertLevel || rule.Options.HasFlag(RuleOptions.LogAlert));
        var json = logged ? writer.Append(alert, context) : writer.Describe(alert, context);

        // Active responses run whether or not the alert is logged (spec §3.6).
        return new AnalysisResult(alert, json, logged, _activeResponses.For(alert, json));
    }

    public void Flush(bool durable) => writer.Flush(durable);
}
