using System.Text.Json;
using Vigil.Analysis.Alerts;
using Vigil.Analysis.Decoding;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;

namespace Vigil.Analysis;

/// <summary>
/// Logtest's evaluation, shared by `vigil logtest` and the API's logtest: an input line in Wazuh's queue form
/// <c>Q:LOCATION:MESSAGE</c> (or a raw line) through the pipeline, and the readable trace of what the decoders and
/// rules made of it (like wazuh-logtest's: decoder, fields, rules tried, rule chosen).
/// </summary>
internal static class Logtest
{
    private const string QueueChars = "1234589defpu";

    /// <summary>One line through a fresh pipeline on the given rules (the API's logtest): the alert or null, and the trace.</summary>
    public static (string? AlertJson, string Trace) Evaluate(OssecConfig config, RuleSet rules, string line)
    {
        var pipeline = AnalysisFactory.Create(config, rules, AlertFileWriter.Detached(), TimeProvider.System);
        pipeline.Trace = [];
        var message = ParseInput(line);
        AnalysisEvent analysisEvent;
        AnalysisResult result;
        try
        {
            analysisEvent = pipeline.Decode(message);
            result = pipeline.Process(analysisEvent);
        }
        catch (Exception ex)
        {
            return (null, $"**Phase 1: the event could not be analysed: {DeadLetterStore.ReasonOf(ex)}{Environment.NewLine}");
        }

        var trace = new StringWriter();
        PrintTrace(trace, message, analysisEvent, result, pipeline);
        return (result.IsWritten ? result.AlertJson : null, trace.ToString());
    }

    public static EventMessage ParseInput(string line) =>
        line.Length > 2 && line[1] == ':' && QueueChars.Contains(line[0]) && EventMessage.TryParse(line) is { } parsed
            ? parsed
            : new EventMessage(EventMessage.LocalFileQueue, "stdin", line);

    public static void PrintTrace(TextWriter o, EventMessage message, AnalysisEvent e, AnalysisResult result, AnalysisPipeline pipeline)
    {
        o.WriteLine("**Phase 1: Completed pre-decoding.");
        o.WriteLine($"\tfull event: '{message.Message}'");
        if (e.PreDecodedTimestamp is not null)
        {
            o.WriteLine($"\ttimestamp: '{e.PreDecodedTimestamp}'");
        }

        if (e.PreDecodedHostname is not null)
        {
            o.WriteLine($"\thostname: '{e.PreDecodedHostname}'");
        }

        if (e.ProgramName is not null)
        {
            o.WriteLine($"\tprogram_name: '{e.ProgramName}'");
        }

        o.WriteLine($"\tlocation: '{e.Location}'{(e.Agent is { } a ? $" (agent {a.Id} {a.Name})" : "")}");
        o.WriteLine();
        if (e.InvalidReason is { } invalid)
        {
            o.WriteLine($"**Phase 2: the event is invalid: {invalid}.");
            o.WriteLine("\tA manager or `vigil run` keeps it as a dead letter (vigil deadletter list) with an alert of rule 200500.");
            o.WriteLine();
            return;
        }

        if (e.Decoder is { } decoder)
        {
            o.WriteLine("**Phase 2: Completed decoding.");
            o.WriteLine($"\tname: '{decoder.Name}'");
            if (decoder.Parent is not null)
            {
                o.WriteLine($"\tparent: '{decoder.Parent}'");
            }

            foreach (var (name, value) in e.Fields.Static)
            {
                o.WriteLine($"\t{name}: '{value}'");
            }

            foreach (var (name, value) in e.Fields.Dynamic)
            {
                o.WriteLine($"\t{name}: '{value}'");
            }
        }
        else
        {
            o.WriteLine("**Phase 2: No decoder matched.");
        }

        o.WriteLine();
        o.WriteLine("**Phase 3: Completed filtering (rules).");
        foreach (var (rule, matched) in pipeline.Trace ?? [])
        {
            o.WriteLine($"\tTrying rule: {rule.Id} - {rule.Description}{(matched ? "  *matched" : "")}");
        }

        if (result.Alert is { } alert)
        {
            o.WriteLine($"\tid: '{alert.Rule.Id}'");
            o.WriteLine($"\tlevel: '{alert.Rule.Level}'");
            o.WriteLine($"\tdescription: '{alert.Description}'");
            o.WriteLine($"\tgroups: '{JsonSerializer.Serialize(alert.Rule.Groups)}'");
            o.WriteLine($"\tfiredtimes: '{alert.FiredTimes}'");
            o.WriteLine($"\tmail: '{(alert.IsMail ? "true" : "false")}'");
            foreach (var ar in result.ActiveResponses)
            {
                o.WriteLine($"\tactive response: '{ar.Name}' -> {ar.Location} (agent {ar.TargetAgentId})");
            }

            o.WriteLine(result.IsWritten ? "**Alert to be generated." : "**No alert: the rule's level is below log_alert_level.");
        }
        else
        {
            o.WriteLine("**No alert: no rule matched, or the matching rule has level 0.");
        }

        o.WriteLine();
    }
}
