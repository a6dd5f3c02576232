namespace Vigil.Intel.VirusTotal;

/// <summary>What VirusTotal says about one file: found or not, and its last analysis. Cached by SHA-256.</summary>
internal sealed record FileVerdict
{
    public bool IsFound { get; init; }

    /// <summary>The hash that was asked for (SHA-256, or MD5 when that was all the event had).</summary>
    public required string LookupHash { get; init; }

    public string? Sha256 { get; init; }

    public string? Md5 { get; init; }

    public string? Sha1 { get; init; }

    /// <summary><c>last_analysis_date</c>, Unix seconds UTC.</summary>
    public long? LastAnalysisDate { get; init; }

    public int Malicious { get; init; }

    public int Suspicious { get; init; }

    public int Undetected { get; init; }

    public int Harmless { get; init; }

    public string? SuggestedThreatLabel { get; init; }

    public string? PopularThreatCategory { get; init; }

    /// <summary>Engines whose category is <c>malicious</c>, in the report's order.</summary>
    public IReadOnlyList<string> FlaggedBy { get; init; } = [];

    /// <summary>
    /// Engines that gave a verdict: malicious + suspicious + undetected + harmless. Timeouts, failures and
    /// unsupported types are not verdicts, so they are left out (Wazuh's v2 <c>total</c> counted engines that
    /// scanned; its v3 port put the malicious count here).
    /// </summary>
    public int Total => Malicious + Suspicious + Undetected + Harmless;

    /// <summary>Wazuh's <c>positives</c>: engines that flagged the file as malicious.</summary>
    public int Positives => Malicious;

    public static FileVerdict NotFound(string lookupHash) => new() { IsFound = false, LookupHash = lookupHash };
}
