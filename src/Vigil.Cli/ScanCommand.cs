using System.CommandLine;
using System.Globalization;
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
/// `vigil scan PATH… [--json] [--wait] [--all | -i] [--no-summary]`, as clamscan users expect: one line per file
/// that needs a look (<c>malicious|error|skipped|unknown  PATH  DETAIL</c>: infected, unreadable, a symbolic link not
/// followed, not looked up for the quota), then a summary block; <c>--all</c> prints every file, <c>-i</c> only the
/// infected ones; <c>--json</c> prints every file, one object a line, and no summary.
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
        var infected = new Option<bool>("--infected", "-i") { Description = "Print only infected files (and the summary)." };
        var all = new Option<bool>("--all") { Description = "Print every file, clean ones too." };
        var noSummary = new Option<bool>("--no-summary") { Description = "Do not print the summary at the end." };
        var command = new Command("scan", "Hash files and check them against the local hash lists, the verdict cache and VirusTotal.")
        {
            paths, json, wait, infected, all, noSummary,
        };
        settings.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            settings, parseResult, CommandLineBytes.Recover(parseResult.GetValue(paths) ?? []), parseResult.GetValue(json), parseResult.GetValue(wait),
            parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error, cancellationToken,
            new ScanOutput(parseResult.GetValue(infected), parseResult.GetValue(all), !parseResult.GetValue(noSummary))));
        root.Subcommands.Add(command);
    }

    public static async Task<int> RunAsync(
        IntelSettings settings, ParseResult parseResult, IReadOnlyList<string> paths, bool json, bool shouldWait,
        TextWriter output, TextWriter error, CancellationToken cancellationToken, ScanOutput? shown = null)
    {
        shown ??= new ScanOutput(IsInfectedOnly: false, IsEveryFile: true, HasSummary: false);
        var started = TimeProvider.System.GetTimestamp();
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        // The ossec.conf is read once, for the settings and the engines.
        var config = settings.ReadConfig(parseResult);
        if (await IntelSettings.LoadAsync(config, "scan", error) is not { } options)
        {
            return ExitCodes.ConfigError;
        }

        if (await IntelSettings.LoadEnginesAsync(config, "scan", error, cancellationToken) is not { } engines)
        {
            return ExitCodes.ConfigError;
        }

        using var disposeEngines = new EngineDisposal(engines);
        LocalIntel local;
        IntelStore? store;
        try
        {
            local = LocalIntel.FromOptions(options);

            // Without a key the database is only read (the verdict cache): when there is none, nothing is cached, so
            // it is neither opened nor created.
            var database = IntelSettings.DatabasePath(settings.Paths.ResolveDataDir(parseResult));
            store = options.ApiKey.IsEmpty && !File.Exists(database) ? null : IntelStore.Open(database);
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
            var scanner = new FileScanner(options, local, store, client, TimeProvider.System, shouldWait) { Engines = engines };
            var (isMalicious, isFailed, notLookedUp) = (false, false, 0);
            // By verdict; an array, not a Dictionary keyed by the enum (its generic code is compiled by the JIT at every start).
            var counts = new int[(int)ScanVerdict.Skipped + 1];
            long bytes = 0;
            await foreach (var result in scanner.ScanAsync(paths, cancellationToken))
            {
                isMalicious |= result.Verdict == ScanVerdict.Malicious;
                isFailed |= result.Verdict == ScanVerdict.Error;
                notLookedUp += result.IsNotLookedUp ? 1 : 0;
                counts[(int)result.Verdict]++;
                bytes += result.Size ?? 0;
                if (json || shown.Shows(result))
                {
                    await output.WriteLineAsync(json ? Json(result) : Text(result));
                }
            }

            if (shown.HasSummary && !json)
            {
                await output.WriteAsync(Summary(counts, scanner.DirectoriesScanned, bytes, TimeProvider.System.GetElapsedTime(started), client is not null));
            }

            if (notLookedUp > 0)
            {
                await error.WriteLineAsync($"vigil scan: {notLookedUp} file(s) not looked up on VirusTotal (quota); run again later or use --wait");
            }

            return isMalicious ? ExitCodes.Findings : isFailed ? ExitCodes.IoError : ExitCodes.Success;
        }
    }

    private static string Summary(int[] counts, int directories, long bytes, TimeSpan elapsed, bool hasVirusTotal)
    {
        int Count(ScanVerdict verdict) => counts[(int)verdict];
        var files = Count(ScanVerdict.Malicious) + Count(ScanVerdict.Clean) + Count(ScanVerdict.Unknown) + Count(ScanVerdict.Error);
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine("----------- SCAN SUMMARY -----------");
        text.AppendLine(CultureInfo.InvariantCulture, $"Scanned directories: {directories}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Scanned files: {files}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Infected files: {Count(ScanVerdict.Malicious)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Clean files: {Count(ScanVerdict.Clean)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Unknown files: {Count(ScanVerdict.Unknown)}{(hasVirusTotal ? "" : " (no hash list knows them; VirusTotal not configured)")}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Skipped: {Count(ScanVerdict.Skipped)} (symbolic links, not followed)");
        text.AppendLine(CultureInfo.InvariantCulture, $"Errors: {Count(ScanVerdict.Error)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"Data scanned: {bytes / 1048576.0:0.00} MB");
        text.AppendLine(CultureInfo.InvariantCulture, $"Time: {elapsed.TotalSeconds:0.000} sec ({(int)elapsed.TotalMinutes} m {elapsed.Seconds} s)");
        return text.ToString();
    }

    private static string Text(ScanResult result) => $"{Word(result.Verdict)}  {Printable(result.Path)}  {result.Detail}";

    private static string Word(ScanVerdict verdict) => verdict switch
    {
        ScanVerdict.Malicious => "malicious",
        ScanVerdict.Clean => "clean",
        ScanVerdict.Unknown => "unknown",
        ScanVerdict.Skipped => "skipped",
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
            if (result.EngineResults.Count > 0)
            {
                writer.WriteStartArray("engines");
                foreach (var engine in result.EngineResults)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", engine.Engine);
                    WriteOptional(writer, "version", engine.Version);
                    writer.WriteString("outcome", engine.Outcome.ToString().ToLowerInvariant());
                    WriteOptional(writer, engine.Engine == "yara" ? "rule" : "signature", engine.Name);
                    WriteOptional(writer, "detail", engine.Detail);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

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

/// <summary>Disposes the engines that hold native resources (YARA's compiled rules) when the scan ends.</summary>
internal sealed class EngineDisposal(IReadOnlyList<Intel.Engines.IFileEngine> engines) : IDisposable
{
    public void Dispose()
    {
        foreach (var engine in engines.OfType<IDisposable>())
        {
            engine.Dispose();
        }
    }
}

/// <summary>Which lines `vigil scan` prints (text output).</summary>
internal sealed record ScanOutput(bool IsInfectedOnly, bool IsEveryFile, bool HasSummary)
{
    public bool Shows(ScanResult result) =>
        IsInfectedOnly ? result.Verdict == ScanVerdict.Malicious
        : IsEveryFile || result.Verdict is ScanVerdict.Malicious or ScanVerdict.Error or ScanVerdict.Skipped || result.IsNotLookedUp;
}
