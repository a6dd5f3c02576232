using Microsoft.Win32.SafeHandles;

namespace Vigil.Core.Prevention;

/// <summary>What prevention knows about a content: nothing yet, clean, or malicious.</summary>
public enum PreventionVerdictKind
{
    /// <summary>No verdict: allowed.</summary>
    Unknown,

    /// <summary>A clean verdict: allowed.</summary>
    Clean,

    /// <summary>A malicious verdict: denied in block mode, reported in audit mode.</summary>
    Malicious,
}

/// <summary>A verdict for one content (sha256), with where it came from (a list name, "verdict-cache", an engine) and the threat name.</summary>
public readonly record struct PreventionVerdict(PreventionVerdictKind Kind, string Source, string? Threat)
{
    /// <summary>No verdict known.</summary>
    public static PreventionVerdict Unknown { get; } = new(PreventionVerdictKind.Unknown, "none", null);

    /// <summary>Whether the verdict is malicious.</summary>
    public bool IsMalicious => Kind == PreventionVerdictKind.Malicious;
}

/// <summary>
/// Answers "is this content known malicious?" for on-access prevention: from memory (the verdict cache, the local hash
/// lists) on the fast path, and from the local engines on an already-open descriptor when a first execution is held.
/// Never from the network.
/// </summary>
public interface IPreventionVerdicts
{
    /// <summary>The verdict known for this sha256 (lower-case hex) without reading the file; must not block.</summary>
    public PreventionVerdict Lookup(string sha256);

    /// <summary>Scans the open file with the local engines; honours <paramref name="cancellationToken"/> (the event's deadline).</summary>
    public ValueTask<PreventionVerdict> ScanAsync(SafeFileHandle file, string sha256, CancellationToken cancellationToken);
}

/// <summary>A fixed set of malicious sha256 values; the null object when empty.</summary>
public sealed class StaticPreventionVerdicts(IReadOnlyDictionary<string, string?> malicious, string source) : IPreventionVerdicts
{
    /// <summary>Knows nothing: every access is allowed.</summary>
    public static StaticPreventionVerdicts None { get; } = new(new Dictionary<string, string?>(), "none");

    /// <inheritdoc />
    public PreventionVerdict Lookup(string sha256) =>
        malicious.TryGetValue(sha256, out var threat) ? new(PreventionVerdictKind.Malicious, source, threat) : PreventionVerdict.Unknown;

    /// <inheritdoc />
    public ValueTask<PreventionVerdict> ScanAsync(SafeFileHandle file, string sha256, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Lookup(sha256));
}
