using System.Globalization;
using System.Text.Json.Nodes;

namespace Vigil.Web.Tests;

/// <summary>
/// Alert documents as alerts.json holds them: FIM (554, 553, 100201), a VirusTotal verdict (87105), active responses
/// (100092, 657), a quarantine record (200303) and an unrelated PAM alert, one detection chain on /root/eicar.com.
/// </summary>
internal static class TestAlerts
{
    public static readonly DateTimeOffset Now = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    public const string Eicar = "/root/eicar.com";
    public const string EicarSha256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";

    public const string FimId = "1764320400.1001";
    public const string VirusTotalId = "1764320405.1002";
    public const string ResponseId = "1764320406.1003";
    public const string QuarantineId = "1764320407.1004";
    public const string PasswdId = "1764321000.1005";
    public const string DeletedId = "1764321600.1006";
    public const string PamId = "1764322200.1007";
    public const string RemoveThreatId = "1764322800.1008";
    public const string OldId = "1764100000.1009";

    public static readonly JsonObject Web01 = new() { ["id"] = "001", ["name"] = "web01", ["ip"] = "10.0.0.11" };
    public static readonly JsonObject Db01 = new() { ["id"] = "002", ["name"] = "db01", ["ip"] = "10.0.0.12" };

    public static IReadOnlyList<string> All() =>
    [
        Fim(OldId, Now.AddDays(-2), 554, 5, "File added to the system.", "/root/old.txt", "added", Web01),
        Fim(FimId, Now.AddHours(-1), 554, 5, "File added to the system.", Eicar, "added", Web01),
        VirusTotal(VirusTotalId, Now.AddHours(-1).AddSeconds(5)),
        RemoveThreat(ResponseId, Now.AddHours(-1).AddSeconds(6)),
        Quarantined(QuarantineId, Now.AddHours(-1).AddSeconds(7), 7),
        Fim(PasswdId, Now.AddMinutes(-50), 100201, 10, "Integrity checksum changed in a critical file.", "/etc/passwd", "modified", Web01),
        Fim(DeletedId, Now.AddMinutes(-40), 553, 7, "File deleted.", "/tmp/x.sh", "deleted", Db01),
        Pam(PamId, Now.AddMinutes(-30)),
        ActiveResponse657(RemoveThreatId, Now.AddMinutes(-20)),
    ];

    public static string Time(DateTimeOffset at) => at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'+0000'", CultureInfo.InvariantCulture);

    private static JsonObject Rule(int id, int level, string description, params string[] groups) => new()
    {
        ["level"] = level,
        ["description"] = description,
        ["id"] = id.ToString(CultureInfo.InvariantCulture),
        ["firedtimes"] = 1,
        ["mail"] = false,
        ["groups"] = new JsonArray([.. groups.Select(g => (JsonNode)g)]),
    };

    private static JsonObject Alert(string id, DateTimeOffset at, JsonObject rule, JsonObject agent) => new()
    {
        ["timestamp"] = Time(at),
        ["rule"] = rule,
        ["agent"] = agent.DeepClone(),
        ["manager"] = new JsonObject { ["name"] = "vigil-manager" },
        ["id"] = id,
    };

    public static string Fim(string id, DateTimeOffset at, int ruleId, int level, string description, string path, string change, JsonObject agent)
    {
        var alert = Alert(id, at, Rule(ruleId, level, description, "ossec", "syscheck", "syscheck_entry_" + change, "syscheck_file"), agent);
        alert["full_log"] = $"File '{path}' {change}\nMode: realtime\n";
        alert["syscheck"] = new JsonObject
        {
            ["path"] = path,
            ["mode"] = "realtime",
            ["size_after"] = "68",
            ["sha256_after"] = EicarSha256,
            ["uname_after"] = "root",
            ["event"] = change,
        };
        alert["decoder"] = new JsonObject { ["name"] = "syscheck_new_entry" };
        alert["location"] = "syscheck";
        return alert.ToJsonString();
    }

    public static string VirusTotal(string id, DateTimeOffset at)
    {
        var alert = Alert(id, at, Rule(87105, 12, $"VirusTotal: Alert - {Eicar} - 66 engines detected this file", "virustotal"), Web01);
        alert["data"] = new JsonObject
        {
            ["virustotal"] = new JsonObject
            {
                ["found"] = "1",
                ["malicious"] = "1",
                ["source"] = new JsonObject
                {
                    ["alert_id"] = FimId,
                    ["file"] = Eicar,
                    ["md5"] = "44d88612fea8a8f36de82e1278abb02f",
                    ["sha1"] = "3395856ce81f2b7382dee72602f798b642f14140",
                },
                ["sha1"] = "3395856ce81f2b7382dee72602f798b642f14140",
                ["scan_date"] = "2026-11-27 21:11:12",
                ["positives"] = "66",
                ["total"] = "70",
                ["permalink"] = "https://www.virustotal.com/gui/file/275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
            },
            ["integration"] = "virustotal",
        };
        alert["decoder"] = new JsonObject { ["name"] = "json" };
        alert["location"] = "virustotal";
        return alert.ToJsonString();
    }

    public static string RemoveThreat(string id, DateTimeOffset at)
    {
        var alert = Alert(id, at, Rule(100092, 12, $"Active response: remove-threat removed the threat at {Eicar}", "active_response"), Web01);
        alert["data"] = new JsonObject
        {
            ["command"] = "add",
            ["origin"] = new JsonObject { ["name"] = "node01", ["module"] = "wazuh-execd" },
            ["parameters"] = new JsonObject
            {
                ["program"] = "active-response/bin/remove-threat",
                ["alert"] = new JsonObject
                {
                    ["id"] = VirusTotalId,
                    ["rule"] = new JsonObject { ["id"] = "87105" },
                    ["data"] = new JsonObject { ["virustotal"] = new JsonObject { ["source"] = new JsonObject { ["file"] = Eicar } } },
                },
            },
        };
        alert["location"] = "active-response/bin/remove-threat";
        return alert.ToJsonString();
    }

    public static string Quarantined(string id, DateTimeOffset at, long quarantineId)
    {
        var alert = Alert(id, at, Rule(200303, 10, $"Vigil: {Eicar} quarantined", "vigil_quarantine"), Web01);
        alert["data"] = new JsonObject
        {
            ["parameters"] = new JsonObject
            {
                ["id"] = quarantineId.ToString(CultureInfo.InvariantCulture),
                ["path"] = Eicar,
                ["sha256"] = EicarSha256,
                ["alert_id"] = VirusTotalId,
                ["rule_id"] = "87105",
            },
        };
        alert["location"] = "vigil-quarantine";
        return alert.ToJsonString();
    }

    /// <summary>A host notice (queue 1, decoded as ossec) such as 200200, 200201, 200404 or 200405, with its text.</summary>
    public static string Notice(string id, DateTimeOffset at, int ruleId, string fullLog, JsonObject agent)
    {
        var alert = Alert(id, at, Rule(ruleId, 7, $"Vigil notice {ruleId}", "ossec"), agent);
        alert["full_log"] = fullLog;
        alert["decoder"] = new JsonObject { ["name"] = "ossec" };
        alert["location"] = "syscheck";
        return alert.ToJsonString();
    }

    public static string Pam(string id, DateTimeOffset at)
    {
        var alert = Alert(id, at, Rule(5501, 3, "PAM: Login session opened.", "pam", "syslog", "authentication_success"), Db01);
        alert["full_log"] = "Nov 28 09:30:00 db01 sshd[2211]: pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)";
        alert["data"] = new JsonObject { ["dstuser"] = "root" };
        alert["location"] = "/var/log/auth.log";
        return alert.ToJsonString();
    }

    public static string ActiveResponse657(string id, DateTimeOffset at)
    {
        var alert = Alert(id, at, Rule(657, 3, "Active response: active-response/bin/remove-threat.sh - add", "ossec", "active_response"), Db01);
        alert["data"] = new JsonObject
        {
            ["parameters"] = new JsonObject
            {
                ["alert"] = new JsonObject
                {
                    ["id"] = DeletedId,
                    ["syscheck"] = new JsonObject { ["path"] = "/tmp/x.sh" },
                },
            },
        };
        alert["location"] = "/var/ossec/logs/active-responses.log";
        return alert.ToJsonString();
    }
}
