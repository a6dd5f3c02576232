using System.CommandLine;
using Vigil.Cli;

// `vigil-remove-threat [OPTIONS]` is `vigil remove-threat [OPTIONS]`: the same command, options and exit codes.
var root = new RootCommand(RemoveThreatCommand.Description + " " + Vigil.Response.RemoveThreat.ShippedRemoveThreat.NativeMarker + ", the same options and exit codes.");
RemoveThreatCommand.Configure(root);
var parseResult = root.Parse(args);
if (parseResult.Errors.Count == 0)
{
    return await parseResult.InvokeAsync();
}

foreach (var error in parseResult.Errors)
{
    await Console.Error.WriteLineAsync($"vigil-remove-threat: {error.Message}");
}

await Console.Error.WriteLineAsync("vigil-remove-threat: see `vigil-remove-threat --help`");
return ExitCodes.Usage;
