using System.Globalization;
using System.Text.Json.Nodes;

namespace Vigil.Tests.Common;

/// <summary>Alert documents shaped as alerts.json holds them for each step of the seed flow (for the index, the API and benchmarks).</summary>
public static class AlertSamples
{
    public static readonly DateTimeOffset Start = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    private static int s_next;

    public static string NewId(DateTimeOffset at) =>
        $"{at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}.{Interlocked.Increment(ref s_next).ToString(CultureInfo.InvariantCulture)}";

    private static JsonObject Alert(string id, DateTimeOffset at, int rule, int level, string description, string[] groups, string agentId, string agentName, string decoder) =>
        new()
        {
            ["timestamp"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture) + "+0000",
            ["rule"] = new JsonObject
            {
                ["level"] = level,
                ["description"] = description,
                ["id"] = rule.ToString(CultureInfo.InvariantCulture),
                ["firedtimes"] = 1,
                ["mail"] = false,
                ["groups"] = new JsonArray([.. groups.Select(g => (JsonNode)g)]),
                ["pci_dss"] = new JsonArray("11.4"),
            },
            ["agent"] = new JsonObject { ["id"] = agentId, ["name"] = agentName },
            ["manager"] = new JsonObject { ["name"] = "manager" },
            ["id"] = id,
            ["decoder"] = new JsonObject { ["name"] = decoder },
        };

    public static string Fim(string id, DateTimeOffset at, string path, string agentId = "000", string agentName = "host", int rule = 100201) =>
        Set(Alert(id, at, rule, rule == 100201 ? 7 : 5, $"File added to the root directory.", ["ossec", "syscheck", "syscheck_entry_added", "syscheck_file"], agentId, agentName, "syscheck_new_entry"), a =>
        {
            a["syscheck"] = new JsonObject { ["path"] = path, ["event"] = "added", ["sha256_after"] = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f" };
            a["location"] = "syscheck";
        });

    public static string VirusTotal(string id, DateTimeOffset at, string path, string fimAlertId, string agentId = "000", string agentName = "host") =>
        Set(Alert(id, at, 87105, 12, $"VirusTotal: Alert - {path} - 66 engines detected this file", ["virustotal"], agentId, agentName, "json"), a =>
        {
            a["data"] = new JsonObject
            {
                ["virustotal"] = new JsonObject
                {
                    ["found"] = "1",
                    ["malicious"] = "1",
                    ["positives"] = "66",
                    ["source"] = new JsonObject { ["alert_id"] = fimAlertId, ["file"] = path, ["sha256"] = "275a021b" },
                },
                ["integration"] = "virustotal",
            };
            a["location"] = "virustotal";
            a["rule"]!["mitre"] = new JsonObject { ["id"] = new JsonArray("T1203"), ["tactic"] = new JsonArray("Execution") };
        });

    /// <summary>A prevention alert (200800 denied open, 200801 denied exec, 200802 audit mode) as the guard's message raises it.</summary>
    public static string Prevention(string id, DateTimeOffset at, string path, int rule = 200800, string agentId = "000", string agentName = "host") =>
        Set(Alert(id, at, rule, rule == 200802 ? 10 : 12, $"Vigil prevention: {(rule == 200802 ? "would have denied" : "denied")} {path}", ["vigil_prevention", "malware"], agentId, agentName, "json"), a =>
        {
            var denied = rule != 200802;
            var data = new JsonObject
            {
                ["vigil"] = new JsonObject
                {
                    ["prevention"] = new JsonObject
                    {
                        ["event"] = denied ? "denied" : "would_deny",
                        ["decision"] = denied ? "deny" : "allow",
                        ["access"] = rule == 200801 ? "exec" : "open",
                        ["mode"] = denied ? "block" : "audit",
                        ["file"] = path,
                        ["sha256"] = "275a021b",
                        ["source"] = "builtin",
                        ["process"] = new JsonObject { ["pid"] = 4242, ["exe"] = "/usr/bin/cat", ["cmdline"] = "cat " + path, ["uid"] = 0 },
                    },
                },
                ["integration"] = "vigil-prevention",
            };
            if (denied)
            {
                data["virustotal"] = new JsonObject { ["source"] = new JsonObject { ["file"] = path, ["sha256"] = "275a021b" } };
            }

            a["data"] = data;
            a["location"] = "vigil-prevention";
        });

    public static string Removal(string id, DateTimeOffset at, string path, string verdictAlertId, string agentId = "000", string agentName = "host") =>
        Set(Alert(id, at, 100092, 12, $"active-response/bin/remove-threat removed threat located at {path}", ["virustotal"], agentId, agentName, "ar_log_json"), a =>
        {
            a["data"] = new JsonObject
            {
                ["command"] = "add",
                ["parameters"] = new JsonObject
                {
                    ["program"] = "active-response/bin/remove-threat",
                    ["alert"] = new JsonObject
                    {
                        ["id"] = verdictAlertId,
                        ["data"] = new JsonObject { ["virustotal"] = new JsonObject { ["source"] = new JsonObject { ["file"] = path } } },
                    },
                },
            };
        });

    public static string Quarantine(string id, DateTimeOffset at, string command, long quarantineId, string path, string? alertId, string agentId = "000", string agentName = "host")
    {
        var rule = command switch
        {
            "quarantine" => 200303,
            "restore" => 200300,
            _ => 200301,
        };
        return Set(Alert(id, at, rule, 3, $"Vigil: quarantine {command} {path}", ["active_response", "vigil_quarantine"], agentId, agentName, "ar_log_json"), a =>
        {
            a["data"] = new JsonObject
            {
                ["command"] = command,
                ["parameters"] = new JsonObject
                {
                    ["program"] = "active-response/bin/vigil-quarantine",
                    ["id"] = quarantineId,
                    ["path"] = path,
                    ["sha256"] = "275a021b",
                    ["restored_to"] = command == "restore" ? path : null,
                    ["rule_id"] = "87105",
                    ["alert_id"] = alertId,
                },
            };
        });
    }

    private static string Set(JsonObject alert, Action<JsonObject> change)
    {
        change(alert);
        return alert.ToJsonString();
    }
}
