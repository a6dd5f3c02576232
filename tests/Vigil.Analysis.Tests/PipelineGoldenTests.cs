using System.Text;
using System.Text.RegularExpressions;
using Vigil.Analysis.Alerts;
using Vigil.Core.Events;
using Vigil.Tests.Common;

namespace Vigil.Analysis.Tests;

/// <summary>
/// Every byte the pipeline produces for a corpus of FIM, JSON, VirusTotal and active-response events (decoded fields,
/// alerts.json, alerts.log) against a recorded copy, so a faster decoder or writer cannot change the output unnoticed.
/// Local times are masked (they follow the machine's zone). Set VIGIL_WRITE_GOLDEN=1 to record the copy again.
/// </summary>
public sealed partial class PipelineGoldenTests
{
    private const string CatchAllRules = """
        <group name="golden,">
          <rule id="100900" level="3">
            <decoded_as>json</decoded_as>
            <description>json $(srcip) $(a.b.c) $(user)</description>
          </rule>
        </group>
        """;

    private static readonly string s_golden = RepositoryPaths.Get("tests", "Vigil.Analysis.Tests", "Golden", "pipeline-output.txt");

    [Fact]
    public void Process_Corpus_ProducesRecordedOutput()
    {
        using var harness = new RuleHarness(CatchAllRules);
        var context = AnalysisFactory.ContextOf(harness.Config);
        var output = new StringBuilder();
        foreach (var line in Corpus())
        {
            output.Append("=== ").Append(line).Append('\n');
            var decoded = harness.Pipeline.Decode(EventMessage.TryParse(line)!);
            output.Append("decoder: ").Append(decoded.Decoder?.Name ?? "(none)").Append(decoded.IsSuppressed ? " suppressed" : "").Append('\n');
            if (decoded.InvalidReason is { } invalid)
            {
                output.Append("invalid: ").Append(invalid).Append('\n');
            }

            output.Append("log: ").Append(decoded.Log).Append('\n');
            output.Append("full_log: ").Append(decoded.FullLog).Append('\n');
            foreach (var name in Vigil.Analysis.Decoding.EventFields.StaticNames)
            {
                if (decoded.Fields.GetStatic(name) is { } value)
                {
                    output.Append("static ").Append(name).Append(" = ").Append(value).Append('\n');
                }
            }

            for (var i = 0; i < decoded.Fields.Count; i++)
            {
                var (name, value) = decoded.Fields.Dynamic[i];
                output.Append(decoded.Fields.IsArray(i) ? "array " : "field ").Append(name).Append(" = ").Append(value).Append('\n');
            }

            var result = harness.Process(line);
            if (result.Alert is { } alert)
            {
                output.Append("json: ").Append(result.AlertJson).Append('\n');
                output.Append("log:\n").Append(AlertLog.Format(alert, context));
            }
            else
            {
                output.Append("no alert\n");
            }
        }

        var actual = MaskLocalTimes(output.ToString());
        if (Environment.GetEnvironmentVariable("VIGIL_WRITE_GOLDEN") == "1")
        {
            File.WriteAllText(s_golden, actual);
        }

        Assert.Equal(File.ReadAllText(s_golden), actual);
    }

    private static string MaskLocalTimes(string text) => LocalTime().Replace(text, "<local>");

    [GeneratedRegex(@"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{3}[+-]\d{4})?|\d{4} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d|Date: .*")]
    private static partial Regex LocalTime();

    private static IEnumerable<string> Corpus()
    {
        const string Old = ""","changed_attributes":["size","md5"],"old_attributes":{"type":"file","size":0,"perm":"rw-r--r--","uid":"0","gid":"0","inode":"1704505","mtime":1700000000,"hash_md5":"d41d8cd98f00b204e9800998ecf8427e"}""";
        yield return Events.Fim("/root/eicar.com");
        yield return Events.Fim("/srv/www/index.php", "added", "scheduled").Replace("8:syscheck:", "8:[001] (web-01) 10.0.0.5->syscheck:", StringComparison.Ordinal);
        yield return Events.Fim("/root/notes.txt", "modified", "whodata", Old);
        yield return Events.Fim("/etc/passwd", "deleted");
        yield return Events.Fim("/" + new string('a', 800));
        yield return Events.Fim("/etc/same", "modified", "scheduled", ""","changed_attributes":[],"old_attributes":{"size":68,"perm":"rw-r--r--","uid":"0","gid":"0","user_name":"root","group_name":"root","inode":"1704505","mtime":1700000000}""");
        yield return Events.Fim("/etc/all", "modified", "scheduled", ""","changed_attributes":["size","permission","uid","user_name","gid","group_name","mtime","inode","md5","sha1","sha256"],"old_attributes":{"size":1,"perm":"rwx------","uid":"1","gid":"2","user_name":"bob","group_name":"staff","inode":"99","mtime":1600000000,"hash_md5":"a","hash_sha1":"b","hash_sha256":"c"}""");
        yield return """8:syscheck:{"type":"event","data":{"path":"/var/x","mode":"whodata","type":"modified","hard_links":["/var/y","/var/<z>&"],"symbolic_path":"/link/x","tags":"web,db","content_changes":"1c1\n< a\n---\n> b","changed_attributes":["md5",1,true,null,[1,"x"],{"k":"v"}],"attributes":{"size":"12","perm":"rw-r--r--","uid":0,"gid":1000,"user_name":"root","inode":4294967296,"mtime":"1700000000","hash_md5":"m"},"old_attributes":{"size":1.5,"perm":"r--r--r--","uid":-1,"gid":true,"inode":"12","mtime":1699999999.0,"hash_md5":"n"},"audit":{"user_id":"0","user_name":"root","process_name":"/usr/bin/vi","process_id":4242,"ppid":1,"cwd":"/root","extra":{"a":[1,2]},"effective_uid":"0"}}}""";
        yield return """8:syscheck:{"data":{"p\u0061th":"\/root\/caf\u00e9 \"q\" \t","type":"added","attributes":{"size":1}},"type":"event"}""";
        yield return """8:syscheck:{"type":"event","data":{"path":"/first","path":"/second","type":"added","type":"deleted","attributes":{"size":1},"attributes":{"size":2}}}""";
        yield return """8:syscheck:{"type":"event","data":{"path":"/noattrs","type":"added","version":2.0,"timestamp":1700000000,"other":{"deep":[{"x":[1,{"y":2}]}]}}}""";
        yield return """8:syscheck:{"type":"event","data":{"path":"/diff0","type":"modified","content_changes":"0","tags":"","attributes":{"size":3}}}""";
        yield return """8:syscheck:{"type":"event","data":{"path":"/renamed","type":"renamed","attributes":{}}}""";
        yield return """8:syscheck:{"type":"event","data":{"path":7,"type":"added"}}""";
        yield return """8:syscheck:{"type":"scan_start","data":{"timestamp":1700000000}}""";
        yield return """8:syscheck:{"type":"scan_end","data":{"timestamp":1700000000}}""";
        yield return """8:syscheck:{"type":7,"data":{"path":"/x","type":"added"}}""";
        yield return """8:syscheck:{"type":"event","data":"x"}""";
        yield return """8:syscheck:{"type":"event","data":{"path":"/x","type":"added"}""";
        yield return """8:syscheck:{"type":"event","data":{"path":"/x","type":"added"}} trailing""";
        yield return """8:syscheck:{"type":"event","data":{"path":"/x","type":"added"}}   """;
        yield return """8:syscheck:["type"]""";
        yield return """1:syscheck:{"type":"event","data":{"path":"/x","type":"added"}}""";

        const string Vt = """1:[001] (web-01) 10.0.0.5->virustotal:{"virustotal": {"found": FOUND, "malicious": MAL, "source": {"alert_id": "1700000000.1234", "file": "/root/eicar.com", "md5": "44d88612fea8a8f36de82e1278abb02f", "sha1": "3395856ce81f2b7382dee72602f798b642f14140"}, "sha1": "3395856ce81f2b7382dee72602f798b642f14140", "scan_date": "2022-11-17 17:15:04", "positives": 66, "total": 68, "permalink": "https://www.virustotal.com/gui/file/x/detection"}, "integration": "virustotal"}""";
        yield return Vt.Replace("FOUND", "1", StringComparison.Ordinal).Replace("MAL", "1", StringComparison.Ordinal);
        yield return Vt.Replace("FOUND", "1", StringComparison.Ordinal).Replace("MAL", "0", StringComparison.Ordinal);
        yield return Vt.Replace("FOUND", "0", StringComparison.Ordinal).Replace("MAL", "0", StringComparison.Ordinal);
        yield return """1:virustotal:{"virustotal": {"error": 204, "description": "Error: Public API request rate limit reached"}, "integration": "virustotal"}""";

        const string Ar = """1:[001] (web-01) 10.0.0.5->/var/ossec/logs/active-responses.log:2022/11/17 19:30:26 active-response/bin/remove-threat.sh: {"version":1,"origin":{"name":"node01","module":"wazuh-execd"},"command":"add","parameters":{"extra_args":[],"alert":{"rule":{"level":12,"id":"87105"},"data":{"virustotal":{"source":{"file":"/root/eicar.com"}}}},"program":"active-response/bin/remove-threat.sh"}} OUTCOME""";
        yield return Ar.Replace("OUTCOME", "Successfully removed threat", StringComparison.Ordinal);
        yield return Ar.Replace("OUTCOME", "Error removing threat", StringComparison.Ordinal);
        yield return """1:/var/ossec/logs/active-responses.log:2022/11/17 19:30:26 active-response/bin/x.sh: {"parameters":{"extra_args":["-f", "<b>", "caf\u00e9", 1.0, {"k": [true, null]}]}}""";
        yield return """1:/var/ossec/logs/active-responses.log:2022/11/17 19:30:26 active-response/bin/x.sh: not json""";

        yield return """1:test:{"srcip":"1.2.3.4","user":"bob","a":{"b":{"c":"x"},"d":[1,"two",{"e":null}]},"a.b.z":"conflict","n":1.25,"t":true,"f":false,"nul":null,"big":12345678901234,"exp":1e3,"neg":-0.5}""";
        yield return """1:test:{"x":"1","x":"2","y":{"z":"1"},"y":"v","q":"w","y.z":"dup"}""";
        yield return """1:test:{"a":{"b":"1"},"c":"2","a.d":"3","a":{"e":"4"}}""";
        yield return """1:test:{"data":"static data","id":"7","protocol":"tcp","url":"<b>&amp;</b> caf\u00e9","systemname":"sys","action":"drop","srcport":"80","dstuser":"alice","status":{"nested":"not static"}}""";
        yield return """1:test:{"l1":{"l2":{"l3":{"l4":"v"}}},"l1.l2.x":"y","l1.l2":"z"}""";
        yield return """1:test:{"a":"x","a.b":"y"}""";
        yield return """1:test:{"a.b":"y","a":"x"}""";
        yield return """1:test:{"a..b":"1",".c":"2","d.":"3"}""";
        yield return """1:test:{}""";
        yield return """1:test:{"arr":[]}""";
        yield return """1:test:{"arr":[" spaced ", "\u003c", "\ud83d\ude00"], "o": {"arr2": [[], {}]}}""";
        yield return """1:test:{"k\u0065y":"v","we.ird":{"in.ner":"x"}}""";
        yield return """1:test:{"bad": }""";
        yield return """1:test:{ "spaced" : "yes" }""";
        yield return """1:wazuh-syscheckd:wazuh: FIM DB: {"fim_db_table":"file_entry","file_limit":100000,"file_count":100000,"alert_type":"full"}""";
        yield return """1:test:ossec: Agent started: 'web->any'.""";
        yield return """1:test:plain text""";
    }
}
