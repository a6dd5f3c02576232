namespace Vigil.Intel.Scanning;

/// <summary>What a scan says of a file; the values run from 0 with <see cref="Skipped"/> last (`vigil scan` counts by value).</summary>
internal enum ScanVerdict
{
    Malicious,
    Clean,
    Unknown,
    Error,

    /// <summary>Met in a walk and not scanned: a symbolic link (never followed).</summary>
    Skipped,
}

/// <summary>
/// The verdict on one file (or a path that could not be read): where it came from (a hash list's name,
/// <c>virustotal</c>, or none) and, for VirusTotal, the engine counts.
/// </summary>
internal sealed record ScanResult(string Path, ScanVerdict Verdict, string Detail)
{
    public string? Source { get; init; }

    public string? Sha256 { get; init; }

    public int? Positives { get; init; }

    public int? Total { get; init; }

    public bool IsCached { get; init; }

    /// <summary>True when VirusTotal was not asked because the quota (or a rejected key) did not allow it.</summary>
    public bool IsNotLookedUp { get; init; }

    /// <summary>The file's size, when it was read.</summary>
    public long? Size { get; init; }

    /// <summary>What each detection engine (YARA, ClamAV) said, in configuration order; empty without engines.</summary>
    public IReadOnlyList<Engines.EngineResult> EngineResults { get; init; } = [];
}
