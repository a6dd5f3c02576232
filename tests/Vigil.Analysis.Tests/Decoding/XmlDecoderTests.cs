using System.Text.Json;
using Vigil.Core.Diagnostics;

namespace Vigil.Analysis.Tests.Decoding;

public sealed class XmlDecoderTests
{
    private const string ArLog = "1:/var/ossec/logs/active-responses.log:";

    private static void AssertNoErrors(RuleHarness harness) =>
        Assert.DoesNotContain(harness.Diagnostics.Items, d => d.Severity == DiagnosticSeverity.Error);

    private static JsonElement AlertOf(RuleHarness harness, string line)
    {
        var result = harness.Process(line);
        Assert.NotNull(result.Alert);
        return JsonDocument.Parse(result.AlertJson!).RootElement;
    }

    // The decoders and rules of Wazuh's YARA integration guide, as users copy them into local_decoder.xml and
    // local_rules.xml; the guide's active-response script writes "wazuh-yara: INFO - Scan result: RULE FILE".
    private const string YaraDecoders = """
        <decoder name="yara_decoder">
          <prematch>wazuh-yara:</prematch>
        </decoder>

        <decoder name="yara_decoder1">
          <parent>yara_decoder</parent>
          <regex>wazuh-yara: (\S+) - Scan result: (\S+) (\S+)</regex>
          <order>log_type, yara_rule, yara_scanned_file</order>
        </decoder>
        """;

    private const string YaraRules = """
        <group name="yara,">
          <rule id="108000" level="0">
            <decoded_as>yara_decoder</decoded_as>
            <description>Yara grouping rule</description>
          </rule>
          <rule id="108001" level="12">
            <if_sid>108000</if_sid>
            <match>wazuh-yara: INFO - Scan result: </match>
            <description>File "$(yara_scanned_file)" is a positive match. Yara rule: $(yara_rule)</description>
          </rule>
        </group>
        """;

    [Fact]
    public void YaraGuide_ScanResultLine_GivesTheGuidesAlert()
    {
        using var harness = new RuleHarness(YaraRules, decoders: YaraDecoders);
        AssertNoErrors(harness);

        var alert = AlertOf(harness, ArLog + "wazuh-yara: INFO - Scan result: multi_vuln_test /tmp/yara/malware/sample.bin");

        Assert.Equal("108001", alert.GetProperty("rule").GetProperty("id").GetString());
        Assert.Equal(12, alert.GetProperty("rule").GetProperty("level").GetInt32());
        Assert.Equal("File \"/tmp/yara/malware/sample.bin\" is a positive match. Yara rule: multi_vuln_test", alert.GetProperty("rule").GetProperty("description").GetString());
        // The child has no prematch: as in Wazuh, the event stays with the parent decoder.
        Assert.Equal("yara_decoder", alert.GetProperty("decoder").GetProperty("name").GetString());
        var data = alert.GetProperty("data");
        Assert.Equal("INFO", data.GetProperty("log_type").GetString());
        Assert.Equal("multi_vuln_test", data.GetProperty("yara_rule").GetString());
        Assert.Equal("/tmp/yara/malware/sample.bin", data.GetProperty("yara_scanned_file").GetString());
    }

    [Fact]
    public void YaraGuide_OtherArLogLine_IsNotClaimed()
    {
        using var harness = new RuleHarness(YaraRules, decoders: YaraDecoders);

        var e = harness.Pipeline.Decode(Vigil.Core.Events.EventMessage.TryParse(ArLog + "active-response/bin/yara.sh: started")!);

        Assert.Null(e.Decoder);
    }

    // ClamAV through syslog, as Wazuh's ClamAV guide has it: clamd logs to syslog, Wazuh pre-decodes the header and
    // a clamd decoder (program name) with a FOUND child reads the file and signature. Our own copy of that shape.
    private const string ClamDecoders = """
        <decoder name="clamd">
          <program_name>^clamd</program_name>
        </decoder>

        <decoder name="clamd-found">
          <parent>clamd</parent>
          <prematch>FOUND</prematch>
          <regex>(\S+):\s+(\S+)\((\S+):</regex>
          <order>url, extra_data, id</order>
        </decoder>
        """;

    private const string ClamRules = """
        <group name="clamd,freshclam,">
          <rule id="52500" level="0">
            <decoded_as>clamd</decoded_as>
            <description>Clamd messages grouped.</description>
          </rule>
          <rule id="52502" level="8">
            <if_sid>52500</if_sid>
            <match>FOUND</match>
            <description>ClamAV: Virus detected</description>
            <group>virus,</group>
          </rule>
        </group>
        """;

    [Fact]
    public void ClamAvGuide_FoundLine_GivesVirusDetectedWithTheFileAndSignature()
    {
        using var harness = new RuleHarness(ClamRules, decoders: ClamDecoders);
        AssertNoErrors(harness);

        var alert = AlertOf(harness, "1:/var/log/syslog:Nov 18 16:51:04 ubuntu clamd[511]: /home/user/eicar.com: Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68) FOUND");

        Assert.Equal("52502", alert.GetProperty("rule").GetProperty("id").GetString());
        Assert.Equal("ClamAV: Virus detected", alert.GetProperty("rule").GetProperty("description").GetString());
        Assert.Equal("clamd", alert.GetProperty("predecoder").GetProperty("program_name").GetString());
        Assert.Equal("ubuntu", alert.GetProperty("predecoder").GetProperty("hostname").GetString());
        Assert.Equal("Nov 18 16:51:04", alert.GetProperty("predecoder").GetProperty("timestamp").GetString());
        var data = alert.GetProperty("data");
        Assert.Equal("/home/user/eicar.com", data.GetProperty("url").GetString());
        Assert.Equal("Win.Test.EICAR_HDB-1", data.GetProperty("extra_data").GetString());
        Assert.Equal("44d88612fea8a8f36de82e1278abb02f", data.GetProperty("id").GetString());
    }

    [Fact]
    public void ProgramNameDecoder_DoesNotClaimALineWithoutAProgramName()
    {
        using var harness = new RuleHarness(ClamRules, decoders: ClamDecoders);

        Assert.Null(harness.RuleOf("1:/var/log/x.log:clamd: /tmp/a: X(1:2) FOUND"));
    }

    [Fact]
    public void Offsets_SiblingChain_ReadEachPartAfterThePrevious()
    {
        using var harness = new RuleHarness("""
            <group name="test,">
              <rule id="100100" level="5">
                <decoded_as>app</decoded_as>
                <field name="port">^22$</field>
                <description>app $(user) from $(srcip) port $(port)</description>
              </rule>
            </group>
            """, decoders: """
            <decoder name="app">
              <prematch>^app: </prematch>
            </decoder>
            <decoder name="app-login">
              <parent>app</parent>
              <prematch offset="after_parent">^login </prematch>
              <regex offset="after_prematch">^user=(\w+) </regex>
              <order>user</order>
            </decoder>
            <decoder name="app-login">
              <parent>app</parent>
              <regex offset="after_regex">^from=(\S+) </regex>
              <order>srcip</order>
            </decoder>
            <decoder name="app-login">
              <parent>app</parent>
              <regex offset="after_regex">^port=(\d+)</regex>
              <order>port</order>
            </decoder>
            """);
        AssertNoErrors(harness);

        var alert = AlertOf(harness, "1:app.log:app: login user=alice from=10.0.0.9 port=22");

        Assert.Equal("app alice from 10.0.0.9 port 22", alert.GetProperty("rule").GetProperty("description").GetString());
        Assert.Equal("10.0.0.9", alert.GetProperty("data").GetProperty("srcip").GetString());
        Assert.Equal("alice", alert.GetProperty("data").GetProperty("dstuser").GetString());
    }

    [Fact]
    public void JsonPlugin_AfterParent_DecodesTheJsonAndDiscardsNulls()
    {
        using var harness = new RuleHarness("""
            <group name="test,">
              <rule id="100200" level="5">
                <decoded_as>svc</decoded_as>
                <field name="event.kind">^alert$</field>
                <description>svc alert</description>
              </rule>
            </group>
            """, decoders: """
            <decoder name="svc">
              <prematch>^svc-json: </prematch>
            </decoder>
            <decoder name="svc-child">
              <parent>svc</parent>
              <prematch>^svc-json: </prematch>
              <plugin_decoder offset="after_parent">JSON_Decoder</plugin_decoder>
              <json_null_field>discard</json_null_field>
            </decoder>
            """);
        AssertNoErrors(harness);

        var alert = AlertOf(harness, """1:svc.log:svc-json: {"event":{"kind":"alert","note":null},"n":1}""");

        Assert.Equal("100200", alert.GetProperty("rule").GetProperty("id").GetString());
        Assert.False(alert.GetProperty("data").GetProperty("event").TryGetProperty("note", out _));
    }

    [Fact]
    public void TypeAndUseOwnName_SetTheCategoryAndTheDecoderName()
    {
        using var harness = new RuleHarness("""
            <group name="test,">
              <rule id="100300" level="0">
                <category>firewall</category>
                <decoded_as>fw-drop</decoded_as>
                <description>fw base</description>
              </rule>
              <rule id="100301" level="6">
                <if_sid>100300</if_sid>
                <action>DROP</action>
                <description>fw drop</description>
              </rule>
            </group>
            """, decoders: """
            <decoder name="fw">
              <prematch>^FW </prematch>
              <type>firewall</type>
            </decoder>
            <decoder name="fw-drop">
              <parent>fw</parent>
              <use_own_name>true</use_own_name>
              <prematch>^FW DROP </prematch>
              <type>firewall</type>
              <regex>^FW (\w+) (\S+)</regex>
              <order>action, srcip</order>
            </decoder>
            """);
        AssertNoErrors(harness);

        var alert = AlertOf(harness, "1:fw.log:FW DROP 10.1.1.1");

        Assert.Equal("100301", alert.GetProperty("rule").GetProperty("id").GetString());
        Assert.Equal("fw-drop", alert.GetProperty("decoder").GetProperty("name").GetString());
        Assert.Equal("fw", alert.GetProperty("decoder").GetProperty("parent").GetString());
    }

    [Theory]
    [InlineData("<decoder name=\"x\"><prematch>a</prematch><regex>(a)</regex></decoder>", "<regex> and <order> go together")]
    [InlineData("<decoder name=\"x\"><parent>nope</parent><regex>(a)</regex><order>a</order></decoder>", "parent decoder 'nope' is not defined")]
    [InlineData("<decoder name=\"x\"><prematch>a</prematch><bogus>1</bogus></decoder>", "invalid element <bogus> in decoder 'x'")]
    [InlineData("<decoder name=\"x\"><prematch>a</prematch><plugin_decoder>PF_Decoder</plugin_decoder></decoder>", "left out: <plugin_decoder>PF_Decoder</plugin_decoder> is not supported")]
    [InlineData("<decoder name=\"x\"><regex>(a)</regex><order>a</order></decoder>", "needs a <prematch>, a <parent> or a <program_name>")]
    [InlineData("<decoder name=\"x\">\n<prematch>a(</prematch></decoder>", "<prematch>: invalid OSRegex")]
    [InlineData("<decoder name=\"x\"><prematch>a</prematch>", "malformed decoder file")]
    public void Read_BadDecoder_ReportsFileLineAndReason(string xml, string expected)
    {
        using var harness = new RuleHarness(decoders: xml);

        var error = Assert.Single(harness.Diagnostics.Items, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(harness.DecodersFile, error.File);
        Assert.True(error.Line >= 1);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DecodedAs_RefusedDecoder_SaysWhyTheRuleIsLeftOut()
    {
        using var harness = new RuleHarness("""
            <group name="test,">
              <rule id="100400" level="3"><decoded_as>pf</decoded_as><description>pf</description></rule>
              <rule id="100401" level="5"><if_sid>100400</if_sid><match>block</match><description>pf block</description></rule>
            </group>
            """, decoders: "<decoder name=\"pf\"><program_name>filterlog</program_name><plugin_decoder>PF_Decoder</plugin_decoder></decoder>");

        var errors = harness.Diagnostics.Items.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Message).ToList();
        Assert.Equal(3, errors.Count);
        Assert.All(errors, m => Assert.Contains("PF_Decoder", m, StringComparison.Ordinal));
    }
}
