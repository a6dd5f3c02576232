namespace Vigil.Core.Configuration;

/// <summary>The <c>&lt;syscheck&gt;</c> block with Wazuh's defaults (spec §2.1).</summary>
public sealed record SyscheckOptions
{
    /// <summary><c>disabled</c>: yes when no <c>&lt;syscheck&gt;</c> block was read, no when a block exists without it.</summary>
    public bool Disabled { get; init; } = true;

    /// <summary><c>frequency</c> in seconds between scheduled scans (604800 when scan_time or scan_day is set).</summary>
    public int FrequencySeconds { get; init; } = 43200;

    /// <summary><c>scan_time</c>, e.g. "10pm" or "22:00"; null when unset.</summary>
    public TimeOnly? ScanTime { get; init; }

    /// <summary><c>scan_day</c>; null when unset.</summary>
    public DayOfWeek? ScanDay { get; init; }

    /// <summary><c>scan_on_start</c>: compare with the stored baseline at start and report what changed while stopped.</summary>
    public bool ScanOnStart { get; init; } = true;

    /// <summary>Every configured directory, one entry per path (comma lists are split).</summary>
    public IReadOnlyList<DirectoryOptions> Directories { get; init; } = [];

    /// <summary><c>ignore</c> entries.</summary>
    public IReadOnlyList<PathFilter> Ignore { get; init; } = [];

    /// <summary><c>nodiff</c> entries.</summary>
    public IReadOnlyList<PathFilter> NoDiff { get; init; } = [];

    /// <summary><c>skip_nfs</c>.</summary>
    public bool SkipNfs { get; init; } = true;

    /// <summary><c>skip_dev</c>.</summary>
    public bool SkipDev { get; init; } = true;

    /// <summary><c>skip_sys</c>.</summary>
    public bool SkipSys { get; init; } = true;

    /// <summary><c>skip_proc</c>.</summary>
    public bool SkipProc { get; init; } = true;

    /// <summary><c>file_limit</c>: maximum baseline entries; 0 = unlimited (enabled=no).</summary>
    /// <remarks>
    /// Vigil's default is 1,000,000, not Wazuh's 100,000: a developer's or build host's /root alone holds 235,000 files,
    /// and a limit reached means new files go unmonitored. The baseline lives in SQLite on disk, so the agent's memory
    /// does not grow with it (bench/results/fim-first-scan.txt); the cost is disk, about 0.5 KB an entry.
    /// </remarks>
    public int FileLimit { get; init; } = 1_000_000;

    /// <summary><c>database</c>: disk or memory.</summary>
    public string Database { get; init; } = "disk";

    /// <summary><c>max_eps</c>: events per second; 0 = unlimited.</summary>
    public int MaxEps { get; init; } = 50;

    /// <summary><c>max_files_per_second</c> read during scans; 0 = unlimited.</summary>
    public int MaxFilesPerSecond { get; init; }

    /// <summary>
    /// Vigil's <c>max_realtime_watches</c>: at most this many inotify watches (0: none beyond the kernel's
    /// fs.inotify.max_user_watches). Reaching it is reported as the kernel's limit is (rule 200200).
    /// </summary>
    public int MaxRealtimeWatches { get; init; }

    /// <summary><c>process_priority</c>: nice value −20..19.</summary>
    public int ProcessPriority { get; init; } = 10;

    /// <summary><c>diff</c> → <c>disk_quota</c> limit in bytes; 0 = no quota.</summary>
    public long DiffDiskQuotaBytes { get; init; } = 1L << 30;

    /// <summary><c>diff</c> → <c>file_size</c> limit in bytes: larger files get no diff; 0 = no limit.</summary>
    public long DiffFileSizeLimitBytes { get; init; } = 50L << 20;

    /// <summary><c>syscheck.file_max_size</c>: files at or above this size are reported without hashes.</summary>
    public long FileMaxSizeBytes { get; init; } = 1024L << 20;

    /// <summary><c>prefilter_cmd</c>; null when unset.</summary>
    public string? PrefilterCommand { get; init; }

    /// <summary><c>synchronization</c> → <c>enabled</c>.</summary>
    public bool SynchronizationEnabled { get; init; } = true;

    /// <summary><c>synchronization</c> → <c>interval</c> in seconds.</summary>
    public int SynchronizationIntervalSeconds { get; init; } = 300;

    /// <summary><c>synchronization</c> → <c>max_interval</c> in seconds (never below the interval).</summary>
    public int SynchronizationMaxIntervalSeconds { get; init; } = 3600;

    /// <summary><c>synchronization</c> → <c>response_timeout</c> in seconds.</summary>
    public int SynchronizationResponseTimeoutSeconds { get; init; } = 30;

    /// <summary><c>synchronization</c> → <c>queue_size</c>.</summary>
    public int SynchronizationQueueSize { get; init; } = 16384;

    /// <summary><c>synchronization</c> → <c>max_eps</c>; 0 = unlimited.</summary>
    public int SynchronizationMaxEps { get; init; } = 10;

    /// <summary><c>allow_remote_prefilter_cmd</c>: whether a centrally pushed configuration may set <c>prefilter_cmd</c>.</summary>
    public bool AllowRemotePrefilterCommand { get; init; }

    /// <summary>The directory that governs a path: the configured directory with the longest matching prefix, or null.</summary>
    public DirectoryOptions? DirectoryFor(string path)
    {
        DirectoryOptions? best = null;
        var directories = Directories;
        for (var i = 0; i < directories.Count; i++) // once per event: no enumerator
        {
            var directory = directories[i];
            if (directory.Contains(path) && (best is null || directory.Path.Length > best.Path.Length))
            {
                best = directory;
            }
        }

        return best;
    }
}

/// <summary>Which attributes of a file are recorded and compared (the <c>check_*</c> attributes).</summary>
[Flags]
public enum FimChecks
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary><c>check_md5sum</c>.</summary>
    Md5 = 1 << 0,

    /// <summary><c>check_sha1sum</c>.</summary>
    Sha1 = 1 << 1,

    /// <summary><c>check_sha256sum</c>.</summary>
    Sha256 = 1 << 2,

    /// <summary><c>check_size</c>.</summary>
    Size = 1 << 3,

    /// <summary><c>check_owner</c>: uid and user name.</summary>
    Owner = 1 << 4,

    /// <summary><c>check_group</c>: gid and group name.</summary>
    Group = 1 << 5,

    /// <summary><c>check_perm</c>.</summary>
    Permissions = 1 << 6,

    /// <summary><c>check_mtime</c>.</summary>
    Mtime = 1 << 7,

    /// <summary><c>check_inode</c>.</summary>
    Inode = 1 << 8,

    /// <summary><c>check_sum</c>: the three hashes.</summary>
    Hashes = Md5 | Sha1 | Sha256,

    /// <summary><c>check_all</c>: everything above.</summary>
    All = Hashes | Size | Owner | Group | Permissions | Mtime | Inode,
}

/// <summary>One monitored directory and its attributes (spec §2.2).</summary>
public sealed record DirectoryOptions
{
    /// <summary>The absolute path, without a trailing slash (environment variables expanded).</summary>
    public required string Path { get; init; }

    /// <summary>The checks that apply (check_all by default).</summary>
    public FimChecks Checks { get; init; } = FimChecks.All;

    /// <summary><c>realtime</c>: watched with inotify.</summary>
    public bool Realtime { get; init; }

    /// <summary><c>whodata</c>: Vigil has no audit backend yet and treats it as realtime.</summary>
    public bool Whodata { get; init; }

    /// <summary><c>report_changes</c>: text diffs of content changes.</summary>
    public bool ReportChanges { get; init; }

    /// <summary><c>restrict</c>: an OSMatch pattern files must match; null when unset.</summary>
    public string? Restrict { get; init; }

    /// <summary><c>recursion_level</c> 0..320.</summary>
    public int RecursionLevel { get; init; } = 256;

    /// <summary><c>tags</c>, split on commas.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary><c>follow_symbolic_link</c>.</summary>
    public bool FollowSymbolicLink { get; init; }

    /// <summary><c>diff_size_limit</c> in bytes; null when unset.</summary>
    public long? DiffSizeLimitBytes { get; init; }

    /// <summary>Vigil's <c>prevention</c>: on-access checks of opens and executions (off by default; docs/prevention.md).</summary>
    public Prevention.PreventionMode Prevention { get; init; }

    /// <summary>Where the element is, for messages.</summary>
    public SourceLocation Source { get; init; } = SourceLocation.None;

    /// <summary>The event mode this directory reports: realtime, whodata or scheduled.</summary>
    public string Mode => Whodata ? "whodata" : Realtime ? "realtime" : "scheduled";

    /// <summary>Whether the path is this directory or lies below it.</summary>
    public bool Contains(string path) =>
        path.StartsWith(Path, StringComparison.Ordinal)
        && (path.Length == Path.Length || path[Path.Length] == '/' || Path == "/");
}

/// <summary>An <c>ignore</c> or <c>nodiff</c> entry: plain text, or an OSMatch pattern with <c>type="sregex"</c>.</summary>
public sealed record PathFilter(string Pattern, bool IsSregex)
{
    /// <summary>Where the element is, for messages.</summary>
    public SourceLocation Source { get; init; } = SourceLocation.None;
}
