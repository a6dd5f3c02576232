using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Vigil.Intel.Engines;

namespace Vigil.Cli;

/// <summary>
/// `vigil status [--json]`: the FIM baseline's progress (files scanned of those expected, ready or not, from
/// <c>&lt;data&gt;/fim/status.json</c>) and the detection engines of the instance whose data directory is given (it
/// may be running): each engine's name, rules or database version, state, retro-scan progress, files waiting and last
/// error, as the engine last recorded them in its store under <c>&lt;data&gt;/intel</c>.
/// </summary>
internal static class StatusCommand
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    /// <summary>One engine as `vigil status` shows it.</summary>
    internal sealed record EngineLine(
        string Key, string Name, string? Version, string State, string? LastError, int Pending, long Scans, long CacheHits,
        string RetroScan, int? RetroDone, int? RetroTotal, int? RetroFound, DateTimeOffset Updated);

    public static void AddTo(RootCommand root)
    {
        var paths = new HomeOptions();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text." };
        var command = new Command("status", "Show the FIM baseline's progress and the detection engines: version, state, retro-scan progress, files waiting, last error.") { json };
        paths.AddTo(command);
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var data = paths.ResolveDataDir(parseResult);
            var engines = Read(Path.Combine(data, "intel"));
            var fim = Fim.FimStatusFile.TryRead(Path.Combine(data, "fim"));
            if (parseResult.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new { fim, engines }, s_json));
                return ExitCodes.Success;
            }

            output.WriteLine(FimLine(fim));

            if (engines.Count == 0)
            {
                output.WriteLine("vigil status: no detection engine has run with this data directory");
                return ExitCodes.Success;
            }

            output.WriteLine($"{"ENGINE",-22}  {"NAME",-6}  {"STATE",-12}  {"VERSION",-24}  {"RETRO-SCAN",-24}  {"WAITING",7}  LAST ERROR");
            foreach (var e in engines)
            {
                output.WriteLine($"{e.Key,-22}  {e.Name,-6}  {e.State,-12}  {Short(e.Version),-24}  {e.RetroScan,-24}  {e.Pending,7}  {e.LastError ?? "-"}");
            }

            return ExitCodes.Success;
        });
        root.Subcommands.Add(command);
    }

    /// <summary>Every engine store in <paramref name="intelDirectory"/>, by key (the store's file name).</summary>
    internal static IReadOnlyList<EngineLine> Read(string intelDirectory)
    {
        if (!Directory.Exists(intelDirectory))
        {
            return [];
        }

        var lines = new List<EngineLine>();
        foreach (var path in Directory.EnumerateFiles(intelDirectory, "*.db").Order(StringComparer.Ordinal))
        {
            if (EngineStore.TryReadState(path) is not var (status, updated))
            {
                continue;
            }

            var retro = status.RetroScan;
            var progress = retro switch
            {
                null => "not started",
                { IsFinished: true } when retro.Version == status.Version => string.Create(CultureInfo.InvariantCulture, $"done {retro.Done}/{retro.Total}, {retro.Found} found"),
                _ when retro.Version == status.Version => string.Create(CultureInfo.InvariantCulture, $"{retro.Done}/{retro.Total}, {retro.Found} found"),
                _ => "due (new version)",
            };
            lines.Add(new EngineLine(Path.GetFileNameWithoutExtension(path), status.Name, status.Version, status.State, status.Problem, status.Pending, status.Scans,
                status.CacheHits, progress, retro?.Done, retro?.Total, retro?.Found, updated));
        }

        return lines;
    }

    /// <summary>One line on the FIM baseline: ready or not, and the scan's files done of those expected.</summary>
    internal static string FimLine(Fim.FimProgress? fim) => fim switch
    {
        null => "FIM: no baseline with this data directory",
        { IsReady: false, Expected: > 0 } => string.Create(CultureInfo.InvariantCulture,
            $"FIM: baseline not ready: first scan since start, {fim.FilesScanned:N0} of about {fim.Expected:N0} files scanned (as of {fim.Updated:u})"),
        { IsReady: false } => string.Create(CultureInfo.InvariantCulture,
            $"FIM: baseline not ready: first scan, {fim.FilesScanned:N0} files scanned so far (as of {fim.Updated:u})"),
        { IsScanning: true } => string.Create(CultureInfo.InvariantCulture,
            $"FIM: baseline ready, {fim.Entries:N0} files; a scan is under way, {fim.FilesScanned:N0} files scanned (as of {fim.Updated:u})"),
        _ => string.Create(CultureInfo.InvariantCulture, $"FIM: baseline ready, {fim.Entries:N0} files (as of {fim.Updated:u})"),
    };

    // A YARA version is a SHA-256: its first 12 hex digits name it well enough in a table.
    private static string Short(string? version) => version switch
    {
        null => "(not ready)",
        { Length: 64 } when version.All(char.IsAsciiHexDigit) => version[..12],
        _ => version.Length > 24 ? version[..24] : version,
    };
}
