namespace Vigil.Intel.Engines;

/// <summary>What an engine said about one file.</summary>
internal enum EngineOutcome
{
    Clean,
    Detected,

    /// <summary>Not scanned, on purpose (over a size limit): said so, not retried.</summary>
    Skipped,

    /// <summary>The engine cannot be reached (clamd down): the file waits and is scanned when it is back.</summary>
    Unavailable,

    /// <summary>The engine answered with an error for this file (a YARA timeout, a clamd ERROR).</summary>
    Failed,
}

/// <summary>One engine's verdict on one file: the engine's name and version, and the rule or signature that matched.</summary>
internal sealed record EngineResult(string Engine, string? Version, EngineOutcome Outcome, string? Name = null, IReadOnlyList<string>? Tags = null, string? Detail = null)
{
    /// <summary>Whether the verdict can be kept in the cache (a verdict of a known engine version).</summary>
    public bool IsCacheable => Outcome is EngineOutcome.Clean or EngineOutcome.Detected && Version is not null;
}

/// <summary>A detection engine that scans an already-open file (opened without following symlinks), never a path.</summary>
internal interface IFileEngine
{
    /// <summary>"yara" or "clamav".</summary>
    public string Name { get; }

    /// <summary>The rules' or the signature database's version; null while unknown.</summary>
    public string? Version { get; }

    /// <summary>Scans the engine runs at once; callers keep this many in flight to use it fully.</summary>
    public int MaxConcurrentScans { get; }

    /// <summary>Scans from the file's start whatever its position; never throws for a bad file or a peer that is down.</summary>
    public Task<EngineResult> ScanAsync(FileStream file, CancellationToken cancellationToken);
}
