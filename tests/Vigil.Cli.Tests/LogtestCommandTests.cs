using System.Text.Json;
using Vigil.Core;
using Vigil.Tests.Common;

namespace Vigil.Cli.Tests;

/// <summary>The seed flow, step by step, through `vigil logtest --json` on the shipped configuration.</summary>
public sealed class LogtestCommandTests
{
    private static readonly string s_config = RepositoryPaths.Get("config", "ossec.conf");

    private static string FimAdded(string path) =>
        """8:syscheck:{"type":"event","data":{"path":"PATH","version":2.0,"mode":"realtime","type":"added","timestamp":1700000000,"attributes":{"type":"file","size":68,"perm":"rw-r--r--","uid":"0","gid":"0","user_name":"root","group_name":"root","inode":"1704505","mtime":1700000000,"hash_md5":"MD5","hash_sha1":"SHA1","hash_sha256":"SHA256","checksum":"c"}}}"""
            .Replace("PATH", path, StringComparison.Ordinal).Replace("MD5", Eicar.Md5, StringComparison.Ordinal)
            .Replace("SHA1", Eicar.Sha1, StringComparison.Ordinal).Replace("SHA256", Eicar.Sha256, StringComparison.Ordinal);

    private const string VirusTotalMalicious = """1:virustotal:{"virustotal": {"found": 1, "malicious": 1, "source": {"alert_id": "1700000000.1234", "file": "/root/eicar.com", "md5": "44d88612fea8a8f36de82e1278abb02f", "sha1": "3395856ce81f2b7382dee72602f798b642f14140"}, "sha1": "3395856ce81f2b7382dee72602f798b642f14140", "scan_date": "2022-11-17 17:15:04", "positives": 66, "total": 68, "permalink": "https://www.virustotal.com/gui/file/275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f/detection"}, "integration": "virustotal"}""";

    private static string ArLog(string outcome) =>
        """1:/var/ossec/logs/active-responses.log:2022/11/17 19:30:26 active-response/bin/remove-threat.sh: {"version":1,"origin":{"name":"node01","module":"wazuh-execd"},"command":"add","parameters":{"extra_args":[],"alert":{"rule":{"id":"87105"},"data":{"virustotal":{"source":{"file":"/root/eicar.com"}}}},"program":"active-response/bin/remove-threat.sh"}} """ + outcome;

    private static List<string> Run(params string[] lines)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = LogtestCommand.Run(json: true, s_config, null, new StringReader(string.Join("\n", lines)), output, error);
        Assert.True(code == 0, error.ToString());
        return [.. output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    private static JsonElement Rule(string alertLine) => JsonDocument.Parse(alertLine).RootElement.GetProperty("rule");

    [Fact]
    public void Json_SeedFlow_EachStepGivesItsAlert()
    {
        var output = Run(
            FimAdded("/root/eicar.com"),
            FimAdded("/srv/eicar.com"),
            VirusTotalMalicious,
            """1:virustotal:{"virustotal": {"found": 0, "malicious": 0, "source": {"alert_id": "1", "file": "/root/new.bin", "md5": "a", "sha1": "b"}}, "integration": "virustotal"}""",
            """1:virustotal:{"virustotal": {"error": 204, "description": "Error: Public API request rate limit reached"}, "integration": "virustotal"}""",
            ArLog("Successfully removed threat"),
            ArLog("Error removing threat"));

        Assert.Equal(7, output.Count);
        Assert.Equal(["100201", "554", "87105", "87103", "87101", "100092", "100093"], output.Select(l => Rule(l).GetProperty("id").GetString()));

        var fim = Rule(output[0]);
        Assert.Equal(7, fim.GetProperty("level").GetInt32());
        Assert.Equal("File added to /root directory.", fim.GetProperty("description").GetString());
        Assert.Equal(["syscheck"], fim.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal(["11.5"], fim.GetProperty("pci_dss").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal(["SI.7"], fim.GetProperty("nist_800_53").EnumerateArray().Select(g => g.GetString()));

        using var vt = JsonDocument.Parse(output[2]);
        var vtRule = vt.RootElement.GetProperty("rule");
        Assert.Equal("VirusTotal: Alert - /root/eicar.com - 66 engines detected this file", vtRule.GetProperty("description").GetString());
        Assert.Equal(12, vtRule.GetProperty("level").GetInt32());
        Assert.True(vtRule.GetProperty("mail").GetBoolean());
        Assert.Equal(["virustotal"], vtRule.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal(["10.6.1", "11.4"], vtRule.GetProperty("pci_dss").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal(["IV_35.7.d"], vtRule.GetProperty("gdpr").EnumerateArray().Select(g => g.GetString()));
        var mitre = vtRule.GetProperty("mitre");
        Assert.Equal(["T1203"], mitre.GetProperty("id").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal(["Execution"], mitre.GetProperty("tactic").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal(["Exploitation for Client Execution"], mitre.GetProperty("technique").EnumerateArray().Select(g => g.GetString()));
        Assert.False(vt.RootElement.TryGetProperty("full_log", out _)); // no_full_log
        Assert.Equal("""{"virustotal":{"found":"1","malicious":"1","source":{"alert_id":"1700000000.1234","file":"/root/eicar.com","md5":"44d88612fea8a8f36de82e1278abb02f","sha1":"3395856ce81f2b7382dee72602f798b642f14140"},"sha1":"3395856ce81f2b7382dee72602f798b642f14140","scan_date":"2022-11-17 17:15:04","positives":"66","total":"68","permalink":"https://www.virustotal.com/gui/file/275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f/detection"},"integration":"virustotal"}""",
            vt.RootElement.GetProperty("data").GetRawText());
        Assert.Equal("virustotal", vt.RootElement.GetProperty("location").GetString());
        Assert.Equal("json", vt.RootElement.GetProperty("decoder").GetProperty("name").GetString());

        Assert.Equal("active-response/bin/remove-threat.sh removed threat located at /root/eicar.com", Rule(output[5]).GetProperty("description").GetString());
        Assert.Equal("Error removing threat located at /root/eicar.com", Rule(output[6]).GetProperty("description").GetString());
        using var ar = JsonDocument.Parse(output[5]);
        Assert.Equal("/var/ossec/logs/active-responses.log", ar.RootElement.GetProperty("location").GetString());
        Assert.Equal("ar_log_json", ar.RootElement.GetProperty("decoder").GetProperty("parent").GetString());
    }

    [Fact]
    public void Json_AbortedRemoval_GivesRule657Only()
    {
        var output = Run(ArLog("Remove threat active response aborted"));
        var rule = Rule(Assert.Single(output));
        Assert.Equal("657", rule.GetProperty("id").GetString());
        Assert.Equal("Active response: active-response/bin/remove-threat.sh - add", rule.GetProperty("description").GetString());
    }

    [Fact]
    public void Json_OneLinePerInput_NullWhenNoAlert()
    {
        var output = Run(
            "just some text nobody decodes",
            """1:virustotal:{"virustotal": {"error": 500, "description": "Error: API request fail"}, "integration": "virustotal"}""",
            """8:syscheck:{"type":"scan_start","data":{"timestamp":1}}""",
            FimAdded("/root/a"));
        Assert.Equal(4, output.Count);
        Assert.Equal(["null", "null", "null"], output.Take(3));
        Assert.Equal("100201", Rule(output[3]).GetProperty("id").GetString());
    }

    [Fact]
    public void Json_AgentEvent_CarriesAgentIdentity()
    {
        var output = Run(FimAdded("/root/a").Replace("8:syscheck:", "8:[002] (web-02) 10.0.0.9->syscheck:", StringComparison.Ordinal));
        using var doc = JsonDocument.Parse(Assert.Single(output));
        var agent = doc.RootElement.GetProperty("agent");
        Assert.Equal("002", agent.GetProperty("id").GetString());
        Assert.Equal("web-02", agent.GetProperty("name").GetString());
        Assert.Equal("10.0.0.9", agent.GetProperty("ip").GetString());
        Assert.Equal("syscheck", doc.RootElement.GetProperty("location").GetString());
    }

    [Fact]
    public void Trace_ShowsDecoderFieldsRulesTriedAndRuleChosen()
    {
        var output = new StringWriter();
        var code = LogtestCommand.Run(json: false, s_config, null, new StringReader(VirusTotalMalicious), output, new StringWriter());
        Assert.Equal(0, code);
        var text = output.ToString();
        Assert.Contains("\tname: 'json'", text, StringComparison.Ordinal);
        Assert.Contains("\tvirustotal.positives: '66'", text, StringComparison.Ordinal);
        Assert.Contains("Trying rule: 87100 - VirusTotal integration messages.  *matched", text, StringComparison.Ordinal);
        Assert.Contains("\tid: '87105'", text, StringComparison.Ordinal);
        Assert.Contains("active response: 'remove-threat0' -> Local (agent 000)", text, StringComparison.Ordinal);
        Assert.Contains("**Alert to be generated.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Trace_SyslogLineThroughAnXmlDecoder_ShowsThePhasesAsWazuhLogtest()
    {
        using var temp = new TempDirectory();
        var decoders = temp.WriteFile("local_decoder.xml", """
            <decoder name="demo-app">
              <program_name>^demo-app</program_name>
            </decoder>
            <decoder name="demo-app-login">
              <parent>demo-app</parent>
              <prematch>^login failed </prematch>
              <regex offset="after_prematch">^user=(\S+) from=(\S+)</regex>
              <order>user, srcip</order>
            </decoder>
            """);
        var rules = temp.WriteFile("local_rules.xml", """
            <group name="demo,">
              <rule id="100900" level="6">
                <decoded_as>demo-app</decoded_as>
                <match>login failed</match>
                <description>demo-app: login failed for $(dstuser)</description>
              </rule>
            </group>
            """);
        var config = temp.WriteFile("ossec.conf", $"""
            <ossec_config>
              <ruleset>
                <decoder_include>{decoders}</decoder_include>
                <rule_dir>{RepositoryPaths.Get("ruleset", "rules")}</rule_dir>
                <rule_include>{rules}</rule_include>
              </ruleset>
            </ossec_config>
            """);
        var output = new StringWriter();

        var code = LogtestCommand.Run(json: false, config, null, new StringReader("Dec  3 10:00:01 web01 demo-app[77]: login failed user=bob from=10.1.2.3"), output, new StringWriter());

        Assert.Equal(0, code);
        var text = output.ToString().Replace("\r", "", StringComparison.Ordinal);
        Assert.Contains("""
            **Phase 1: Completed pre-decoding.
            	full event: 'Dec  3 10:00:01 web01 demo-app[77]: login failed user=bob from=10.1.2.3'
            	timestamp: 'Dec  3 10:00:01'
            	hostname: 'web01'
            	program_name: 'demo-app'
            """.Replace("\r", "", StringComparison.Ordinal), text, StringComparison.Ordinal);
        Assert.Contains("**Phase 2: Completed decoding.\n\tname: 'demo-app'\n\tparent: 'demo-app'\n", text, StringComparison.Ordinal);
        Assert.Contains("\tdstuser: 'bob'", text, StringComparison.Ordinal);
        Assert.Contains("\tsrcip: '10.1.2.3'", text, StringComparison.Ordinal);
        Assert.Contains("**Phase 3: Completed filtering (rules).", text, StringComparison.Ordinal);
        Assert.Contains("\tid: '100900'", text, StringComparison.Ordinal);
        Assert.Contains("\tdescription: 'demo-app: login failed for bob'", text, StringComparison.Ordinal);
        Assert.Contains("**Alert to be generated.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_BrokenRules_PrintsErrorsAndFailsWithConfigError()
    {
        using var temp = new TempDirectory();
        var rules = temp.WriteFile("bad.xml", "<group name=\"x,\">\n  <rule id=\"100001\" level=\"3\"><if_sid>4242</if_sid><description>d</description></rule>\n</group>\n");
        var error = new StringWriter();
        var code = LogtestCommand.Run(json: true, s_config, [rules], new StringReader(""), new StringWriter(), error);
        Assert.Equal(ExitCodes.ConfigError, code);
        Assert.Contains($"{rules}:2: error: rule 100001: if_sid 4242 names no loaded rule", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Json_QuarantineActions_AreAlerts()
    {
        const string Prefix = "1:/var/ossec/logs/active-responses.log:2026/11/28 10:00:00 active-response/bin/vigil-quarantine: ";
        const string Json = """{"version":1,"origin":{"name":"vigil","module":"quarantine"},"command":"COMMAND","parameters":{"program":"active-response/bin/vigil-quarantine","id":7,"path":"/root/eicar.com","sha256":"x","restored_to":"/root/eicar.com","rule_id":"87105","alert_id":"1.2"}}""";
        var output = Run(
            Prefix + Json.Replace("COMMAND", "restore", StringComparison.Ordinal) + " Quarantined file restored",
            Prefix + Json.Replace("COMMAND", "delete", StringComparison.Ordinal) + " Quarantined file deleted",
            ArLog("Threat already gone \"/root/eicar.com\""),
            Prefix + Json.Replace("COMMAND", "quarantine", StringComparison.Ordinal) + " File quarantined \"/root/eicar.com\"",
            Prefix + Json.Replace("COMMAND", "restore", StringComparison.Ordinal) + " Error on quarantined file: the target exists",
            Prefix + Json.Replace("COMMAND", "delete", StringComparison.Ordinal) + " Error on quarantined file: no such record");
        Assert.Equal(["200300", "200301", "200302", "200303", "200304", "200304"], output.Select(l => Rule(l).GetProperty("id").GetString()));
        Assert.Equal("Vigil: file quarantined: /root/eicar.com (quarantine id 7, sha256 x)", Rule(output[3]).GetProperty("description").GetString());
        Assert.Equal("Vigil: quarantine restore failed for /root/eicar.com (quarantine id 7)", Rule(output[4]).GetProperty("description").GetString());
        Assert.Equal("Vigil: quarantined file restored: /root/eicar.com (quarantine id 7) to /root/eicar.com", Rule(output[0]).GetProperty("description").GetString());
        Assert.Equal("Vigil: remove-threat had nothing to do for /root/eicar.com", Rule(output[2]).GetProperty("description").GetString());
    }

    [Fact]
    public void Rules_AddsTheFileToTheShippedRuleset()
    {
        using var temp = new TempDirectory();

        // A local rule on top of the shipped 554 (only loads when the shipped ruleset is there too).
        var rules = temp.WriteFile("local_rules.xml", """
            <group name="local,">
              <rule id="100900" level="11">
                <if_sid>554</if_sid>
                <field name="file">^/srv/uploads/</field>
                <description>Upload added: $(file)</description>
              </rule>
            </group>
            """);
        var output = new StringWriter();
        var error = new StringWriter();
        var code = LogtestCommand.Run(json: true, s_config, [rules], new StringReader(FimAdded("/srv/uploads/a.bin") + "\n" + VirusTotalMalicious), output, error);
        Assert.True(code == 0, error.ToString());
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("100900", Rule(lines[0]).GetProperty("id").GetString());

        // The shipped rules still decide everything else (87105 is the guide's VirusTotal rule in the ruleset).
        Assert.Equal("87105", Rule(lines[1]).GetProperty("id").GetString());
    }
}
