using Vigil.Core.Events;
using Vigil.Core.Hashing;
using Vigil.Intel.Selection;

namespace Vigil.Intel.Engines;

/// <summary>
/// The messages the engines publish (queue 1, location <c>vigil-engine</c>), which the rules in
/// ruleset/rules/0494-vigil_engine_rules.xml raise. Every one has a <c>engine</c> block {name, version, status, and
/// the rule or signature}. A detection also carries the fields users of Wazuh's YARA guide filter on
/// (<c>yara_rule</c>, <c>yara_scanned_file</c>), a <c>clamav</c> block {signature, file} for ClamAV, and the file under
/// <c>vigil.source</c> and <c>virustotal.source</c> with the hashes of the bytes scanned, where remove-threat and the
/// guide's rule 100092 look for it.
/// </summary>
internal static class EngineMessages
{
    public const string Integration = "vigil-engine";

    public const string Detected = "detected";
    public const string Skipped = "skipped";
    public const string Failed = "error";
    public const string Down = "down";
    public const string ReloadError = "reload_error";
    public const string NoDatabase = "no_database";

    public static EventMessage Result(FileAlert file, FileHashes hashes, EngineResult result, bool isRetroScan = false)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(result);
        var status = result.Outcome switch
        {
            EngineOutcome.Detected => Detected,
            EngineOutcome.Skipped => Skipped,
            EngineOutcome.Unavailable => Down,
            _ => Failed,
        };
        var engine = Engine(result.Engine, result.Version, status);
        var json = new PyJson();
        if (result.Outcome == EngineOutcome.Detected)
        {
            engine.Add(result.Engine == "yara" ? "rule" : "signature", result.Name);
            if (result.Tags is { Count: > 0 } tags)
            {
                engine.Add("tags", tags);
            }
        }

        if (result.Detail is not null)
        {
            engine.Add("detail", result.Detail);
        }

        if (isRetroScan)
        {
            engine.Add("scan", "retro"); // found in a file already in the baseline, after the rules or database changed
        }

        json.Add("engine", engine);
        if (result.Outcome == EngineOutcome.Detected && result.Engine == "yara")
        {
            json.Add("yara_rule", result.Name).Add("yara_scanned_file", file.Path);
        }
        else if (result.Outcome == EngineOutcome.Detected)
        {
            json.Add("clamav", new PyJson().Add("signature", result.Name).Add("file", file.Path));
        }

        json.Add("vigil", new PyJson().Add("engine", result.Engine).Add("source", Source(file, hashes)));
        if (result.Outcome == EngineOutcome.Detected)
        {
            json.Add("virustotal", new PyJson().Add("source", Source(file, hashes)));
        }

        json.Add("integration", Integration);
        return new EventMessage(EventMessage.LocalFileQueue, EventMessage.AgentLocation(file.Agent, Integration), json.ToString());
    }

    /// <summary>An engine-wide state: down, its rules do not compile, no database.</summary>
    public static EventMessage State(string engineName, string? version, string status, string detail) =>
        new(EventMessage.LocalFileQueue, Integration, new PyJson()
            .Add("engine", Engine(engineName, version, status).Add("detail", detail))
            .Add("integration", Integration)
            .ToString());

    private static PyJson Engine(string name, string? version, string status) =>
        new PyJson().Add("name", name).Add("version", version ?? "").Add("status", status);

    private static PyJson Source(FileAlert file, FileHashes hashes) => new PyJson()
        .Add("alert_id", file.AlertId)
        .Add("file", file.Path)
        .Add("md5", hashes.Md5)
        .Add("sha1", hashes.Sha1)
        .Add("sha256", hashes.Sha256)
        .Add("size", hashes.Length);
}
