using System.CommandLine;
using Vigil.Intel.VirusTotal;

namespace Vigil.Cli;

/// <summary>
/// `vigil integration virustotal ALERT_FILE API_KEY HOOK_URL [debug] [OPTIONS_FILE] [TIMEOUT] [RETRIES]`: a drop-in
/// for Wazuh's integrations/virustotal, taking integratord's arguments and returning its exit codes.
/// </summary>
internal static class IntegrationCommand
{
    public static void AddTo(RootCommand root)
    {
        // integratord passes positional arguments, some empty, and a literal "> /dev/null 2>&1" last: take them raw.
        var arguments = new Argument<string[]>("alert_file")
        {
            Arity = ArgumentArity.ZeroOrMore,
            Description = "alert_file api_key hook_url [debug] [options_file] [timeout] [retries], as integratord passes them. "
                + $"An api_key of '-' reads the key from ${WazuhDropIn.ApiKeyVariable}.",
        };
        var virustotal = new Command("virustotal", "Look up a FIM alert's file on VirusTotal and send the result to analysisd's queue socket.")
        {
            arguments,
        };
        virustotal.SetAction((parseResult, cancellationToken) => WazuhDropIn.RunAsync(
            parseResult.GetValue(arguments) ?? [], Environment.GetEnvironmentVariable, TimeProvider.System, Console.Error, cancellationToken));

        var command = new Command("integration", "Wazuh integratord drop-ins.") { virustotal };
        root.Subcommands.Add(command);
    }
}
