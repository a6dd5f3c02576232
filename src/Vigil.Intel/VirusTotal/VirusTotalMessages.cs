using System.Globalization;
using System.Runtime.CompilerServices;
using Vigil.Core.Events;
using Vigil.Intel.Selection;

namespace Vigil.Intel.VirusTotal;

/// <summary>
/// The messages Wazuh's <c>virustotal.py</c> sends to analysisd, with its key order and <c>json.dumps</c>
/// separators, so rules 87100–87106 and users' rules match them unchanged. Vigil's own fields follow Wazuh's.
/// </summary>
internal static class VirusTotalMessages
{
    public const string Integration = "virustotal";

    public const int RateLimitError = 204;
    public const int CredentialsError = 403;
    public const int TimeoutError = 408;

    private static readonly ConditionalWeakTable<FileVerdict, string> s_tails = [];
    private static readonly ConditionalWeakTable<FileVerdict, string> s_extendedTails = [];

    /// <summary>The result for one file: found or not, malicious or not.</summary>
    public static EventMessage Result(FileAlert file, FileVerdict verdict, IntelOptions options, bool isCached)
    {
        var body = new PyJson()
            .Add("found", verdict.IsFound ? 1 : 0)
            .Add("malicious", verdict.IsFound && verdict.Positives > 0 && verdict.Positives >= options.MinPositives ? 1 : 0)
            .Add("source", Source(file, options.ExtendedOutput));
        body.AddRendered(options.ExtendedOutput ? s_extendedTails.GetValue(verdict, v => Tail(v, true)) : s_tails.GetValue(verdict, v => Tail(v, false)));
        if (options.ExtendedOutput)
        {
            body.Add("cached", isCached);
        }

        // Wazuh passes the agent on success: "[id] (name) ip->virustotal", or the bare "virustotal" for 000.
        return new EventMessage(EventMessage.LocalFileQueue, EventMessage.AgentLocation(file.Agent, Integration), Wrap(body));
    }

    /// <summary>
    /// An error message. Wazuh's shape is <c>{"virustotal": {"error": N, "description": "..."}, "integration":
    /// "virustotal"}</c> sent as the manager; with extended output Vigil adds the HTTP status and details and
    /// sends it as the file's agent with the file in <c>source</c>.
    /// </summary>
    public static EventMessage Error(
        int error, FileAlert? file, IntelOptions options, int httpStatus, string? detail = null, IEnumerable<KeyValuePair<string, object?>>? extra = null)
    {
        var body = new PyJson()
            .Add("error", error)
            .Add("description", Description(error));
        if (!options.ExtendedOutput || file is null)
        {
            return new EventMessage(EventMessage.LocalFileQueue, Integration, Wrap(body));
        }

        body.Add("http_status", httpStatus);
        if (detail is not null)
        {
            body.Add("detail", detail);
        }

        foreach (var (key, value) in extra ?? [])
        {
            body.Add(key, value);
        }

        body.Add("source", Source(file, extended: true));
        return new EventMessage(EventMessage.LocalFileQueue, EventMessage.AgentLocation(file.Agent, Integration), Wrap(body));
    }

    /// <summary>The verdict's part of a result, rendered once per verdict: a cached verdict answers many files.</summary>
    private static string Tail(FileVerdict verdict, bool extended)
    {
        var body = new PyJson();
        if (verdict.IsFound)
        {
            body.Add("sha1", verdict.Sha1)
                .Add("scan_date", ScanDate(verdict.LastAnalysisDate))
                .Add("positives", verdict.Positives)
                .Add("total", verdict.Total)
                .Add("permalink", Permalink(verdict.Sha256 ?? verdict.LookupHash));
        }

        if (extended && verdict.IsFound)
        {
            body.Add("sha256", verdict.Sha256)
                .Add("suspicious", verdict.Suspicious)
                .Add("undetected", verdict.Undetected)
                .Add("harmless", verdict.Harmless);
            if (verdict.SuggestedThreatLabel is not null)
            {
                body.Add("suggested_threat_label", verdict.SuggestedThreatLabel);
            }

            if (verdict.PopularThreatCategory is not null)
            {
                body.Add("popular_threat_category", verdict.PopularThreatCategory);
            }

            body.Add("flagged_by", verdict.FlaggedBy);
        }

        return body.RenderMembers();
    }

    public static string Description(int error) => error switch
    {
        RateLimitError => "Error: Public API request rate limit reached",
        CredentialsError => "Error: Check credentials",
        TimeoutError => "Error: API request timed out",
        _ => "Error: API request fail",
    };

    public static string Permalink(string sha256) => $"https://www.virustotal.com/gui/file/{sha256}/detection";

    /// <summary>v2's <c>scan_date</c> form, "YYYY-MM-DD HH:MM:SS" in UTC, from v3's Unix <c>last_analysis_date</c>.</summary>
    public static string ScanDate(long? unixSeconds) =>
        unixSeconds is { } s ? DateTimeOffset.FromUnixTimeSeconds(s).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "";

    private static PyJson Source(FileAlert file, bool extended)
    {
        var source = new PyJson()
            .Add("alert_id", file.AlertId)
            .Add("file", file.Path)
            .Add("md5", file.Md5)
            .Add("sha1", file.Sha1);
        if (extended)
        {
            source.Add("sha256", file.Sha256);
        }

        return source;
    }

    private static string Wrap(PyJson body) => new PyJson().Add(Integration, body).Add("integration", Integration).ToString();
}
