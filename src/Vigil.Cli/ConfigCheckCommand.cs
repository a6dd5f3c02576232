using System.CommandLine;
using Vigil.Core.Diagnostics;

namespace Vigil.Cli;

/// <summary>`vigil config check`: validates ossec.conf and every rule file, listing each problem at file:line.</summary>
internal static class ConfigCheckCommand
{
    public static void AddTo(RootCommand root)
    {
        var configOption = new Option<string?>("--config") { Description = "The ossec.conf to check (default: config/ossec.conf under the Vigil home)." };
        var rulesOption = new Option<string[]>("--rules")
        {
            Description = "More rule files to check, loaded after the built-in ruleset and those the configuration names.",
            AllowMultipleArgumentsPerToken = true,
        };
        var check = new Command("check", "Validate ossec.conf and the rules; exit 1 when there is any error.") { configOption, rulesOption };
        check.SetAction(parseResult =>
        {
            var ruleFiles = NullIfEmpty(parseResult.GetValue(rulesOption));
            var (config, rules, loaded) = ConfigLoading.Load(parseResult.GetValue(configOption), ruleFiles, addRules: true);
            var diagnostics = loaded.Concat(ConfigLoading.CheckInstall(config, missingProgramIsError: true))
                .Concat(Intel.Engines.EngineConfigCheck.Check(config)).ToList();
            var output = parseResult.InvocationConfiguration.Output;
            ConfigLoading.Print(diagnostics, output);
            var errors = diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error);
            var warnings = diagnostics.Count - errors;
            var decoderFiles = Analysis.AnalysisFactory.DecoderFilesOf(config).Count;
            var ruleFileCount = Analysis.Rules.RuleSet.RuleFilesOf(config).Count + (ruleFiles?.Length ?? 0);
            output.WriteLine($"{errors} error(s), {warnings} warning(s); {decoderFiles} decoder file(s), {rules.Decoders.XmlDecoderCount} decoders; {ruleFileCount} rule file(s), {rules.Rules.Count} rules loaded");
            return errors > 0 ? ExitCodes.Findings : ExitCodes.Success;
        });
        var command = new Command("config", "Configuration tools.") { check };
        root.Subcommands.Add(command);
    }

    internal static string[]? NullIfEmpty(string[]? values) => values is { Length: > 0 } ? values : null;
}
