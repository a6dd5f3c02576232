namespace Vigil.Intel.Yara;

/// <summary>The YARA engine's settings (the <c>custom-vigil-yara</c> integration's options; see docs/engines.md).</summary>
internal sealed record YaraOptions
{
    /// <summary>Rule files and directories (every *.yar and *.yara below a directory).</summary>
    public IReadOnlyList<string> Rules { get; init; } = [];

    /// <summary>Files larger than this are not scanned, and an alert says so (200603).</summary>
    public long MaxFileSize { get; init; } = 100L * 1024 * 1024;

    /// <summary>One file's scan; libyara counts whole seconds.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Scans at once over the shared rules (libyara allows up to 32).</summary>
    public int MaxConcurrentScans { get; init; } = 4;

    /// <summary>How often the rule files are checked for changes (hot reload).</summary>
    public TimeSpan ReloadInterval { get; init; } = TimeSpan.FromSeconds(2);
}
