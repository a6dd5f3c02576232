using System.CommandLine;
using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Analysis.Decoding;
using Vigil.Core.Diagnostics;

namespace Vigil.Cli;

/// <summary>
/// `vigil logtest`: reads events from stdin — Wazuh's queue form <c>Q:LOCATION:MESSAGE</c> or raw lines — and shows
/// what the rules make of each: with --json exactly one line per input (the alerts.json line, or null), otherwise a
/// readable trace like wazuh-logtest's (decoder, fields, rules tried, rule chosen).
/// </summary>
internal static class LogtestCommand
{
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

            var message = Logtest.ParseInput(line);
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
                Logtest.PrintTrace(output, message, analysisEvent, result, pipeline);
            }
        }

        return ExitCodes.Success;
    }
}
