using Vigil.Core.Baseline;

namespace Vigil.Intel.Engines;

/// <summary>The retro-scan's settings (<c>retro_scan</c>, <c>retro_scan_rate</c> in an engine block's options).</summary>
internal sealed record RetroScanOptions
{
    /// <summary>Whether files already in the FIM baseline are scanned again when the rules or database change.</summary>
    public bool IsEnabled { get; init; } = true;

    /// <summary>Files per second at most: modest, so a rules update does not take the disk from the host's work.</summary>
    public int Rate { get; init; } = 20;
}

/// <summary>
/// A retro-scan's progress for one engine version, as stored: the last baseline file done (the walk goes newest
/// first, so a restart continues after it), how many were done of how many, and how many were detections.
/// </summary>
internal sealed record RetroScanState(string Version, BaselineFile? Cursor, int Done, int Total, int Found, bool IsFinished);
