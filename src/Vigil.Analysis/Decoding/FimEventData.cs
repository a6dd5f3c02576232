namespace Vigil.Analysis.Decoding;

/// <summary>One side (before or after) of a FIM event's attributes, as the alert's <c>syscheck</c> object prints them.</summary>
internal sealed record FimAttributes
{
    public string? Size { get; init; }
    public string? Perm { get; init; }
    public string? Uid { get; init; }
    public string? Gid { get; init; }
    public string? Md5 { get; init; }
    public string? Sha1 { get; init; }
    public string? Sha256 { get; init; }
    public string? UserName { get; init; }
    public string? GroupName { get; init; }
    public long? Mtime { get; init; }
    public string? Inode { get; init; }

    /// <summary>The target of a symbolic link (the agent's <c>symlink_path</c>).</summary>
    public string? SymlinkPath { get; init; }
}

/// <summary>A decoded FIM event (spec §2.8–2.9).</summary>
internal sealed record FimEventData
{
    public required string Path { get; init; }
    public required string Mode { get; init; }
    public required string EventType { get; init; }
    public IReadOnlyList<string>? HardLinks { get; init; }
    public string? SymbolicPath { get; init; }
    public required FimAttributes After { get; init; }
    public FimAttributes? Before { get; init; }
    public IReadOnlyList<string>? ChangedAttributes { get; init; }
    public string? Diff { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    public System.Text.Json.JsonElement? Audit { get; init; }
}
