using System.Globalization;
using System.Text.Json.Nodes;

namespace Vigil.Tests.Common;

/// <summary>Detection-engine alerts (200601 YARA, 200701 ClamAV) shaped as alerts.json holds them.</summary>
public static class EngineAlertSamples
{
    public static string Yara(string id, DateTimeOffset at, string path, string fimId, string rule, string version, string agentId = "000", string agentName = "host") =>
        Alert(id, at, 200601, $"Vigil: YARA rule {rule} matched {path}", "yara", path, fimId, agentId, agentName, new JsonObject
        {
            ["name"] = "yara",
            ["version"] = version,
            ["status"] = "detected",
            ["rule"] = rule,
        }, data =>
        {
            data["yara_rule"] = rule;
            data["yara_scanned_file"] = path;
        });

    public static string ClamAv(string id, DateTimeOffset at, string path, string fimId, string signature, string version, string agentId = "000", string agentName = "host") =>
        Alert(id, at, 200701, $"Vigil: ClamAV signature {signature} matched {path}", "clamav", path, fimId, agentId, agentName, new JsonObject
        {
            ["name"] = "clamav",
            ["version"] = version,
            ["status"] = "detected",
            ["signature"] = signature,
        }, data => data["clamav"] = new JsonObject { ["signature"] = signature, ["file"] = path });

    private static string Alert(string id, DateTimeOffset at, int rule, string description, string group, string path, string fimId, string agentId, string agentName,
        JsonObject engine, Action<JsonObject> more)
    {
        JsonObject Source() => new() { ["alert_id"] = fimId, ["file"] = path, ["sha256"] = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", ["size"] = 68 };
        var data = new JsonObject { ["engine"] = engine };
        more(data);
        data["vigil"] = new JsonObject { ["engine"] = engine["name"]!.GetValue<string>(), ["source"] = Source() };
        data["virustotal"] = new JsonObject { ["source"] = Source() };
        data["integration"] = "vigil-engine";
        return new JsonObject
        {
            ["timestamp"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture) + "+0000",
            ["rule"] = new JsonObject
            {
                ["level"] = 12,
                ["description"] = description,
                ["id"] = rule.ToString(CultureInfo.InvariantCulture),
                ["firedtimes"] = 1,
                ["mail"] = false,
                ["groups"] = new JsonArray("malware", "vigil_engine", group),
            },
            ["agent"] = new JsonObject { ["id"] = agentId, ["name"] = agentName },
            ["manager"] = new JsonObject { ["name"] = "manager" },
            ["id"] = id,
            ["decoder"] = new JsonObject { ["name"] = "json" },
            ["data"] = data,
            ["location"] = "vigil-engine",
        }.ToJsonString();
    }
}
