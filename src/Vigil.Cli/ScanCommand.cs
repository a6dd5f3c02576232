using System.CommandLine;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Vigil.Core;
using Vigil.Intel;
using Vigil.Intel.LocalLists;
using Vigil.Intel.Scanning;
using Vigil.Intel.VirusTotal;

namespace Vigil.Cli;

/// <summary>
/// `vigil scan PATH… [--json] [--wait]`: one line per file, <c>malicious|clean|unknown|error  PATH  DETAIL</c>.
/// Exit 1 when something is malicious, else 4 when a path could not be read, else 0.
/// </summary>
internal static class ScanCommand
{
    private static readonly JsonWriterOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void AddTo(RootCommand root)
    {
        var settings = new IntelSettings();
        var paths = new Argument<string[]>("paths") { Arity = ArgumentArity.OneOrMore, Description = "Files or directories (walked without following symbolic links)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per line." };
        var wait = new Option<bool>("--wait") { Description = "Wait for the VirusTotal quota instead of leaving files not looked up." };
        var command = new Command("scan", "Hash files and check them against the local hash lists, the verdict cache and VirusTotal.") { paths, json, wait };
        settings.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            settings, parseResult, CommandLineBytes.Recover(parseResult.GetValue(paths) ?? []), parseResult.GetValue(json), parseResult.GetValue(wait),
            parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error, cancellationToken));
        root.Subcommands.Add(command);
    }

    public static async Task<int> RunAsync(
        IntelSettings settings, ParseResult parseResult, IReadOnlyList<string> paths, bool json, bool shouldWait,
        TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (await settings.LoadAsync(parseResult, "scan", error) is not { } options)
        {
            return ExitCodes.ConfigError;
        }

        LocalIntel local;
        IntelStore store;
        try
        {
            local = LocalIntel.FromOptions(options);
            store = IntelStore.Open(IntelSettings.DatabasePath(settings.Paths.ResolveDataDir(parseResult)));
        }
        catch (VigilException ex)
        {
            await error.WriteLineAsync($"vigil scan: {ex.Message}");
            return ExitCodes.IoError;
        }

        using (store)
        {
            using var http = options.ApiKey.IsEmpty ? null : VirusTotalClient.CreateHttpClient(options);
            var client = http is null ? null : new VirusTotalClient(http, options);
            var scanner = new FileScanner(options, local, store, client, TimeProvider.System, shouldWait);
            var (isMalicious, isFailed, notLookedUp) = (false, false, 0);
            await foreach (var result in scanner.ScanAsync(paths, cancellationToken))
            {
                isMalicious |= result.Verdict == ScanVerdict.Malicious;
                isFailed |= result.Verdict == ScanVerdict.Error;
                notLookedUp += result.IsNotLookedUp ? 1 : 0;
                await output.WriteLineAsync(json ? Json(result) : Text(result));
            }

            if (notLookedUp > 0)
            {
                await error.WriteLineAsync($"vigil scan: {notLookedUp} file(s) not looked up on VirusTotal (quota); run again later or use --wait");
            }

            return isMalicious ? ExitCodes.Findings : isFailed ? ExitCodes.IoError : ExitCodes.Success;
        }
    }

    private static string Text(ScanResult result) => $"{Word(result.Verdict)}  {Printable(result.Path)}  {result.Detail}";

    private static string Word(ScanVerdict verdict) => verdict switch
    {
        ScanVerdict.Malicious => "malicious",
        ScanVerdict.Clean => "clean",
        ScanVerdict.Unknown => "unknown",
        _ => "error",
    };

    /// <summary>A path with a control character (a newline would forge a line) is printed JSON-quoted.</summary>
    private static string Printable(string path) => path.Any(char.IsControl) ? JsonSerializer.Serialize(path) : path;

    private static string Json(ScanResult result)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, s_json))
        {
            writer.WriteStartObject();
            writer.WriteString("verdict", Word(result.Verdict));
            writer.WriteString("path", result.Path);
            writer.WriteString("detail", result.Detail);
            WriteOptional(writer, "source", result.Source);
            WriteOptional(writer, "sha256", result.Sha256);
            if (result.Positives is { } positives)
            {
                writer.WriteNumber("positives", positives);
            }

            if (result.Total is { } total)
            {
                writer.WriteNumber("total", total);
            }

            writer.WriteBoolean("cached", result.IsCached);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }
}
