namespace Vigil.Web.Index;

/// <summary>
/// One alert as the index keeps it: the columns searches and the alert table use, and the alert itself. <c>Seq</c> is
/// the index's own row number (the live feed's cursor), <c>Id</c> the alert's Wazuh id, <c>File</c> the file the alert
/// is about (FIM path, VirusTotal/local source file, quarantined path) if any, <c>Json</c> the alert exactly as
/// alerts.json holds it.
/// </summary>
internal sealed record IndexedAlert(
    long Seq,
    string Id,
    DateTimeOffset Timestamp,
    string AgentId,
    string AgentName,
    int RuleId,
    int Level,
    string Description,
    string? File,
    IReadOnlyList<string> Groups,
    string Json);

/// <summary>One page of a search, newest first, and how many alerts match in all.</summary>
internal sealed record AlertPage(long Total, IReadOnlyList<IndexedAlert> Alerts);

/// <summary>Alerts per time bucket: buckets start at <c>From + i × Interval</c>; empty buckets are included.</summary>
internal sealed record AlertHistogram(DateTimeOffset From, TimeSpan Interval, IReadOnlyList<HistogramBucket> Buckets);

internal sealed record HistogramBucket(DateTimeOffset Start, long Count);

/// <summary>What a top-N aggregation groups by.</summary>
internal enum TopField
{
    Rule,
    Agent,
    File,
}

/// <summary>One group of a top-N aggregation: its key (rule id, agent id, file path), a readable label, the count.</summary>
internal sealed record TermCount(string Key, string Label, long Count);

/// <summary>Where a quarantined file stands, as the manager knows it from the agents' alerts.</summary>
internal static class QuarantineStates
{
    public const string Quarantined = "quarantined";
    public const string Restored = "restored";
    public const string Deleted = "deleted";
}

/// <summary>One quarantine record of one agent, built from its quarantine alerts (rules 200303, 200300, 200301).</summary>
internal sealed record QuarantineEntry(
    string AgentId,
    string AgentName,
    long QuarantineId,
    string Path,
    string? Sha256,
    string State,
    string? AlertId,
    string? RuleId,
    DateTimeOffset QuarantinedAt,
    DateTimeOffset UpdatedAt,
    string? RestoredTo);

/// <summary>The stage of the detection chain an alert belongs to.</summary>
internal enum ChainStage
{
    /// <summary>File integrity monitoring saw the file (550/553/554, 100200/100201…).</summary>
    Fim,

    /// <summary>A verdict: VirusTotal (871xx) or local intelligence (2001xx).</summary>
    Verdict,

    /// <summary>The active response ran (657, 100092/100093, 200302).</summary>
    Response,

    /// <summary>The quarantine record changed (quarantined, restored, deleted).</summary>
    Quarantine,

    /// <summary>On-access prevention denied (or, in audit mode, would have denied) an open or execution (2008xx).</summary>
    Prevention,

    Other,
}

internal sealed record ChainStep(ChainStage Stage, IndexedAlert Alert, string? CausedBy)
{
    /// <summary>For a detection engine's verdict (200601, 200701): the engine, the rule or signature, and the engine's version.</summary>
    public ChainEngine? Engine => Stage == ChainStage.Verdict ? ChainEngine.From(Alert.Json) : null;
}

/// <summary>Which engine gave a verdict: <c>yara</c> or <c>clamav</c>, the YARA rule or ClamAV signature, the rules' or database's version.</summary>
internal sealed record ChainEngine(string Name, string? Match, string? Version)
{
    /// <summary>The <c>data.engine</c> block of an engine's alert; null for any other alert.</summary>
    public static ChainEngine? From(string alertJson)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(alertJson);
            if (!document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != System.Text.Json.JsonValueKind.Object
                || !data.TryGetProperty("engine", out var engine) || engine.ValueKind != System.Text.Json.JsonValueKind.Object
                || Text(engine, "name") is not { Length: > 0 } name)
            {
                return null;
            }

            return new ChainEngine(name, Text(engine, "rule") ?? Text(engine, "signature"), Text(engine, "version") is { Length: > 0 } v ? v : null);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }

        static string? Text(System.Text.Json.JsonElement parent, string name) =>
            parent.TryGetProperty(name, out var value) && value.ValueKind == System.Text.Json.JsonValueKind.String ? value.GetString() : null;
    }
}

/// <summary>
/// The detection chain of one file on one agent, oldest first: each step with the id of the alert that caused it
/// (a verdict names its FIM alert, a response names its verdict alert), and the file's quarantine records.
/// </summary>
internal sealed record DetectionChain(string AgentId, string File, IReadOnlyList<ChainStep> Steps, IReadOnlyList<QuarantineEntry> Quarantine);
