using System.Text;
using Vigil.Analysis.Alerts;
using Vigil.Analysis.Decoding;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Events;

namespace Vigil.Analysis;

/// <summary>What one event became: the alert (when a rule alerted), whether it was written, and the active responses.</summary>
internal sealed class AnalysisResult(Alert? alert, byte[]? alertUtf8, bool isWritten, IReadOnlyList<ActiveResponseCommand> activeResponses, string? alertJson = null)
{
    private string? _alertJson = alertJson;

    public static AnalysisResult None { get; } = new(null, null, false, []);

    public Alert? Alert => alert;

    /// <summary>The alert's document as UTF-8: the alerts.json line, without its newline.</summary>
    public byte[]? AlertUtf8 => alertUtf8;

    /// <summary>The alert's document as text (decoded on first use).</summary>
    public string? AlertJson => _alertJson ??= alertUtf8 is null ? null : Encoding.UTF8.GetString(alertUtf8);

    public bool IsWritten => isWritten;

    public IReadOnlyList<ActiveResponseCommand> ActiveResponses => activeResponses;
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

    /// <summary>What every alert of this pipeline carries (the manager's name).</summary>
    public AlertContext Context => context;

    /// <summary>The rules tried for the last event, when tracing is on (logtest).</summary>
    public List<(Rule Rule, bool Matched)>? Trace
    {
        get => _engine.Trace;
        set => _engine.Trace = value;
    }

    public AnalysisEvent Decode(EventMessage message)
    {
        // Text no encoder can write (a lone surrogate) is taken as U+FFFD before anything reads it (docs/text.md).
        if (EventText.HasLoneSurrogate(message.Message) || EventText.HasLoneSurrogate(message.Location))
        {
            message = message with { Location = EventText.Scrub(message.Location), Message = EventText.Scrub(message.Message) };
        }

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
        var utf8 = logged ? writer.Append(alert, context) : writer.Describe(alert, context);

        // Active responses run whether or not the alert is logged (spec §3.6); their messages carry the alert as text.
        if (rule.ActiveResponses.Count == 0)
        {
            return new AnalysisResult(alert, utf8, logged, []);
        }

        var json = Encoding.UTF8.GetString(utf8);
        return new AnalysisResult(alert, utf8, logged, _activeResponses.For(alert, json), json);
    }

    public void Flush(bool durable) => writer.Flush(durable);
}
