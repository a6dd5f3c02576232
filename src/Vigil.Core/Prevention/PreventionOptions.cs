namespace Vigil.Core.Prevention;

/// <summary>A directory's prevention mode (the <c>prevention</c> attribute of syscheck <c>&lt;directories&gt;</c>).</summary>
public enum PreventionMode
{
    /// <summary>No on-access checks (the default).</summary>
    Off,

    /// <summary>Decide and alert, never deny.</summary>
    Audit,

    /// <summary>Deny opening and executing a file whose content is malicious.</summary>
    Block,
}

/// <summary>What a permission event gets when its deadline passes before a decision.</summary>
public enum PreventionTimeoutPolicy
{
    /// <summary>Allow the access (the default: the host never waits on Vigil).</summary>
    Allow,

    /// <summary>Deny the access.</summary>
    Deny,
}

/// <summary>The <c>&lt;prevention&gt;</c> block of ossec.conf (docs/prevention.md).</summary>
public sealed record PreventionOptions
{
    /// <summary>The filesystem types marked by default; network, FUSE and pseudo filesystems never are.</summary>
    public static IReadOnlyList<string> DefaultFileSystems { get; } = ["ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs"];

    /// <summary>Types that are refused even when listed: a permission event there can wait on the network or on a user-space daemon.</summary>
    public static IReadOnlyList<string> NeverMarked { get; } =
        ["nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "9p", "fuse", "fuseblk", "proc", "sysfs", "cgroup", "cgroup2", "devtmpfs", "devpts", "overlay"];

    /// <summary><c>deadline</c>: every permission event is answered within this time.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary><c>on_timeout</c>: the answer when the deadline passes first.</summary>
    public PreventionTimeoutPolicy OnTimeout { get; init; } = PreventionTimeoutPolicy.Allow;

    /// <summary><c>hold_unknown_exec</c>: the first execution of a content with no verdict waits for the local engines (up to the deadline).</summary>
    public bool HoldUnknownExec { get; init; }

    /// <summary><c>filesystems</c>: the types whose mounts may be marked.</summary>
    public IReadOnlyList<string> FileSystems { get; init; } = DefaultFileSystems;

    /// <summary><c>queue_size</c>: events waiting for a decision; beyond it events are allowed at once and an alert says so.</summary>
    public int QueueSize { get; init; } = 4096;

    /// <summary><c>max_file_size</c>: larger files are allowed without hashing (hashing them would not fit the deadline).</summary>
    public long MaxFileSizeBytes { get; init; } = 64L << 20;

    /// <summary><c>workers</c>: threads that hash and decide.</summary>
    public int Workers { get; init; } = 2;

    /// <summary><c>hash_list</c>: list files (as the integrations' <c>hash_lists</c>) prevention consults besides the built-in list and the intelligence configured here.</summary>
    public IReadOnlyList<string> HashLists { get; init; } = [];

    /// <summary>Process ids never checked besides Vigil's own (e.g. a scanner daemon Vigil talks to).</summary>
    public IReadOnlyList<int> ExcludedPids { get; init; } = [];
}
