namespace Vigil.Response.Quarantine;

/// <summary>What happened to a flagged file: kept in a vault, or deleted outright.</summary>
internal enum QuarantineAction
{
    Quarantine,
    Delete,
}

/// <summary>Where a record stands now.</summary>
internal enum QuarantineState
{
    /// <summary>The file is in the vault.</summary>
    Quarantined,

    /// <summary>The file was deleted (by the <c>delete</c> action, <c>quarantine delete</c> or a purge).</summary>
    Deleted,

    /// <summary>The file was put back.</summary>
    Restored,

    /// <summary>
    /// Written just before the file is moved (or deleted): a removal cut short by a crash leaves this, and the same
    /// response run again finishes it (the file is in the vault) or undoes it (the file is still in place).
    /// </summary>
    Pending,
}

/// <summary>One removed file: where it was, what it was, why it was removed, and where it is now.</summary>
internal sealed record QuarantineRecord
{
    public long Id { get; init; }

    public required string OriginalPath { get; init; }

    /// <summary>The vault file's absolute path; empty for the delete action.</summary>
    public string VaultPath { get; init; } = "";

    public QuarantineAction Action { get; init; }

    public QuarantineState State { get; init; }

    public uint Uid { get; init; }

    public uint Gid { get; init; }

    /// <summary>The full st_mode (type and permission bits) the file had.</summary>
    public uint Mode { get; init; }

    public long Size { get; init; }

    public long AtimeSeconds { get; init; }

    public long AtimeNanoseconds { get; init; }

    public long MtimeSeconds { get; init; }

    public long MtimeNanoseconds { get; init; }

    public ulong Device { get; init; }

    public ulong Inode { get; init; }

    public required string Md5 { get; init; }

    public required string Sha1 { get; init; }

    public required string Sha256 { get; init; }

    public string? AlertId { get; init; }

    public string? RuleId { get; init; }

    /// <summary>The verdict: the rule description of the alert that flagged the file.</summary>
    public string? Description { get; init; }

    public string? AgentId { get; init; }

    public string? AgentName { get; init; }

    public DateTimeOffset QuarantinedAt { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>Where the file was restored to, when it was.</summary>
    public string? RestoredTo { get; init; }
}
