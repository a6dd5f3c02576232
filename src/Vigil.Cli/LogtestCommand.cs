using System.CommandLine;
using System.Text.Json;
using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Analysis.Decoding;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;

namespace Vigil.Cli;

/// <summary>
/// `vigil logtest`: reads events from stdin — Wazuh's queue form <c>Q:LOCATION:MESSAGE</c> or raw lines — and shows
/// what the rules make of each: with --json exactly one line per input (the alerts.json line, or null), otherwise a
/// readable trace like wazuh-logtest's (decoder, fields, rules tried, rule chosen).
/// </summary>
internal static class LogtestCommand
{
    private const string QueueChars = "1234589defpu";

    public static void AddTo(RootCommand root)
    {
        var jsonOption = new Option<bool>("--json") { Description = "Print one line per input: the alert as alerts.json would hold it, or null." };
        var configOption = new Option<string?>("--config") { Description = "The ossec.conf to use (default: config/ossec.conf under the Vigil home)." };
        var rulesOption = new Option<string[]>("--rules") { Description = "More rule files to load, after the built-in ruleset and those the configuration names (as wazuh-logtest reads local rules on top of the ruleset).", AllowMultipleArgumentsPerToken = true };
        var command = new Command("logtest", "Test decoders and rules on events read from stdin.") { jsonOption, configOption, rulesOption };
        command.SetAction(parseResult => Run(
            parseResult.GetValue(jsonOption),
            parseResult.GetValue(configOption),
            ConfigCheckCommand.NullIfEmpty(parseResult.GetValue(rulesOption)),
            Console.In,
            Console.Out,
            Console.Error));
        root.Subcommands.Add(command);
    }

    internal static int Run(bool json, string? configPath, string[]? ruleFiles, TextReader input, TextWriter output, TextWriter error)
    {
        var (config, rules, diagnostics) = ConfigLoading.Load(configPath, ruleFiles, addRules: true);
        ConfigLoading.Print(diagnostics, error);
        if (ConfigLoading.HasErrors(diagnostics))
        {
            return ExitCodes.ConfigError;
        }

        var pipeline = AnalysisFactory.Create(config, rules, AlertFileWriter.Detached(), TimeProvider.System);
        if (!json)
        {
            pipeline.Trace = [];
        }

        var number = 0;
        while (input.ReadLine() is { } line)
        {
            number++;
            if (line.Length == 0)
            {
                if (json)
                {
                    output.WriteLine("null");
                }

                continue;
            }

            var message = ParseInput(line);
            AnalysisEvent analysisEvent;
            AnalysisResult result;
            try
            {
                analysisEvent = pipeline.Decode(message);
                pipeline.Trace?.Clear();
                result = pipeline.Process(analysisEvent);
            }
            catch (Exception ex)
            {
                // One line that cannot be analysed is reported; the lines after it are still evaluated.
                error.WriteLine($"vigil logtest: line {number}: the event could not be analysed: {DeadLetterStore.ReasonOf(ex)}");
                output.WriteLine(json ? "null" : $"**Phase 1: the event could not be analysed: {DeadLetterStore.ReasonOf(ex)}{Environment.NewLine}");
                continue;
            }

            if (analysisEvent.InvalidReason is { } invalid && json)
            {
                error.WriteLine($"vigil logtest: line {number}: the event is invalid: {invalid} (a manager or `vigil run` keeps it as a dead letter, rule 200500)");
            }

            if (json)
            {
                output.WriteLine(result.IsWritten ? result.AlertJson : "null");
            }
            else
            {
                PrintTrace(output, message, analysisEvent, result, pipeline);
            }
        }

        return ExitCodes.Success;
    }

    /// <summary>One line through a fresh pipeline on the given rules (the API's logtest): the alert or null, and the trace.</summary>
    internal static (string? AlertJson, string Trace) Evaluate(OssecConfig config, RuleSet rules, string line)
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

    internal static EventMessage ParseInput(string line) =>
        line.Length > 2 && line[1] == ':' && QueueChars.Contains(line[0]) && EventMessage.TryParse(line) is { } parsed
            ? parsed
            : new EventMessage(EventMessage.LocalFileQueue, "stdin", line);

    private static void PrintTrace(TextWriter o, EventMessage message, AnalysisEvent e, AnalysisResult result, AnalysisPipeline pipeline)
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
