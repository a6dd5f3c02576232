using System.Text.Json;

namespace Vigil.Fim;

/// <summary>
/// FIM's progress as another process reads it (`vigil status`): files scanned by the scan under way (or the last),
/// the files expected (the baseline's size at start; 0 on a first scan, which cannot know), the baseline's size now,
/// and whether the first scan is applied (ready: realtime events and retro-scans rest on it).
/// </summary>
internal sealed record FimProgress(bool IsReady, bool IsScanning, long FilesScanned, int Expected, int Entries, DateTimeOffset Updated);

/// <summary><c>&lt;fim data&gt;/status.json</c>, replaced whole (written beside, then renamed) so a reader never sees half of it.</summary>
internal static class FimStatusFile
{
    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string PathIn(string fimDataDirectory) => Path.Combine(fimDataDirectory, "status.json");

    public static void Write(string fimDataDirectory, FimProgress progress)
    {
        var path = PathIn(fimDataDirectory);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(progress, s_json));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The progress FIM last wrote there; null when it never ran with that directory or the file is unreadable.</summary>
    public static FimProgress? TryRead(string fimDataDirectory)
    {
        try
        {
            return JsonSerializer.Deserialize<FimProgress>(File.ReadAllText(PathIn(fimDataDirectory)), s_json);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }
}
