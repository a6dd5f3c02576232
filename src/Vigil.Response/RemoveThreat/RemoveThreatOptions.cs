using Vigil.Response.Quarantine;

namespace Vigil.Response.RemoveThreat;

/// <summary>What <c>remove-threat</c> may act on and how.</summary>
internal sealed record RemoveThreatOptions
{
    /// <summary>
    /// The directories a flagged file must lie in: syscheck's monitored directories, or an explicit allow-list.
    /// Empty means nothing may be removed.
    /// </summary>
    public IReadOnlyList<string> AllowedDirectories { get; init; } = [];

    /// <summary>Vigil's own files and directories (install, configuration, logs, data): never removed.</summary>
    public IReadOnlyList<string> ProtectedPaths { get; init; } = [];

    /// <summary>
    /// Whether a file with more than one hard link may be removed. Off by default: the other names may lie
    /// outside the monitored directories, and quarantine (mode 000) would change them too.
    /// </summary>
    public bool AllowHardLinks { get; init; }

    /// <summary>The action when the message's <c>extra_args</c> name none (<c>quarantine</c> or <c>delete</c>).</summary>
    public QuarantineAction DefaultAction { get; init; } = QuarantineAction.Quarantine;

    /// <summary>
    /// The largest file that is hashed for removal (syscheck's <c>file_max_size</c> by default, 1 GiB): a larger one
    /// is refused with a log line rather than read whole, since FIM does not hash such files either.
    /// </summary>
    public long MaxFileSizeBytes { get; init; } = 1L << 30;

    /// <summary>How long to wait for another removal of the same file in progress (its lock) before giving up.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A missing file whose path and hash were removed this recently is reported as already handled, not as gone.</summary>
    public TimeSpan AlreadyHandledWindow { get; init; } = TimeSpan.FromHours(1);
}
