using Vigil.Core.Configuration;

namespace Vigil.Core.Tests.Configuration;

public sealed class OssecConfigLoaderTests
{
    [Fact]
    public void LoadFromString_SeveralRoots_ReadsEveryRoot()
    {
        var result = ConfigTest.Load("""
            <!-- the seed shows its blocks separately -->
            <ossec_config>
              <alerts><log_alert_level>5</log_alert_level></alerts>
            </ossec_config>
            <ossec_config>
              <command><name>remove-threat</name><executable>remove-threat.sh</executable></command>
            </ossec_config>

            <ossec_config>
              <active-response>
                <command>remove-threat</command>
                <location>local</location>
                <rules_id>87105</rules_id>
              </active-response>
            </ossec_config>
            """);

        Assert.Empty(result.Diagnostics);
        Assert.Equal(5, result.Config.Alerts.LogAlertLevel);
        Assert.Equal("remove-threat.sh", Assert.Single(result.Config.Commands).Executable);
        Assert.Single(result.Config.ActiveResponses);
    }

    [Fact]
    public void LoadFromString_SeedGuideBlocksVerbatim_LoadWithoutErrors()
    {
        // The blocks of the seed guide, as a user pastes them into ossec.conf.
        var result = ConfigTest.Load("""
            <ossec_config>
            <syscheck>
              <disabled>no</disabled>
              <!-- other syscheck configurations -->
            <directories realtime="yes">/root</directories>
            </syscheck>
            </ossec_config>

            <ossec_config>
              <integration>
                <name>virustotal</name>
                <api_key>YOUR_VIRUS_TOTAL_API_KEY</api_key> <!-- Replace with your actual VirusTotal API key -->
                <rule_id>100200,100201</rule_id>
                <alert_format>json</alert_format>
              </integration>
            </ossec_config>

            <ossec_config>
              <command>
                <name>remove-threat</name>
                <executable>remove-threat.sh</executable>
                <timeout_allowed>no</timeout_allowed>
              </command>
              <active-response>
                <disabled>no</disabled>
                <command>remove-threat</command>
                <location>local</location>
                <rules_id>87105</rules_id>
              </active-response>
            </ossec_config>
            """);

        // Loads without errors; the guide's placeholder key is a warning and is not used as a key.
        Assert.Empty(result.Errors());
        Assert.Contains(result.Warnings(), w => w.Contains("<api_key> holds the placeholder 'YOUR_VIRUS_TOTAL_API_KEY', not a key", StringComparison.Ordinal));
        Assert.Equal("/root", Assert.Single(result.Config.Syscheck.Directories).Path);
        Assert.True(Assert.Single(result.Config.Integrations).ApiKey.IsEmpty);
        Assert.Equal("remove-threat0", Assert.Single(result.Config.ActiveResponses).WireName);
    }

    [Theory]
    [InlineData("YOUR_VIRUS_TOTAL_API_KEY")]
    [InlineData("your_api_key")]
    [InlineData("<YOUR API KEY>")]
    public void LoadBlocks_PlaceholderApiKeyAndKeyInEnvironment_TheEnvironmentsKeyIsUsed(string placeholder)
    {
        var result = ConfigTest.LoadBlocks(
            $"<integration><name>virustotal</name><api_key>{System.Security.SecurityElement.Escape(placeholder)}</api_key><rule_id>100201</rule_id></integration>",
            new Dictionary<string, string> { ["VIGIL_VT_API_KEY"] = "real-key" });

        Assert.Equal("real-key", Assert.Single(result.Config.Integrations).ApiKey.Reveal());
        Assert.Matches(@":\d+: warning: <api_key> holds the placeholder", Assert.Single(result.Warnings()));
    }

    [Fact]
    public void LoadBlocks_RealLookingApiKey_IsUsedWithoutWarning()
    {
        var result = ConfigTest.LoadBlocks(
            "<integration><name>virustotal</name><api_key>0123abcd</api_key><rule_id>100201</rule_id></integration>",
            new Dictionary<string, string> { ["VIGIL_VT_API_KEY"] = "other" });

        Assert.Equal("0123abcd", Assert.Single(result.Config.Integrations).ApiKey.Reveal());
        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void LoadFromString_XmlDeclaration_IsAcceptedAndKeepsLines()
    {
        var result = ConfigTest.Load("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ossec_config>\n  <alerts><log_alert_level>x</log_alert_level></alerts>\n</ossec_config>");

        Assert.Equal("ossec.conf:3: error: <log_alert_level> must be a whole number, got 'x'", result.SingleError());
    }

    [Fact]
    public void LoadFromString_MalformedXml_ReportsFileAndLine()
    {
        var result = ConfigTest.Load("<ossec_config>\n  <syscheck>\n    <frequency>10</frequency>\n  </syschek>\n</ossec_config>\n");

        var error = result.SingleError();
        Assert.StartsWith("ossec.conf:4: error: malformed XML: ", error);
        Assert.Contains("syscheck", error);
        Assert.True(result.Config.Syscheck.Disabled);
    }

    [Fact]
    public void LoadFromString_UnclosedComment_ReportsAnError()
    {
        var result = ConfigTest.Load("<ossec_config>\n<!-- never closed\n</ossec_config>\n");

        Assert.Contains("malformed XML", result.SingleError());
    }

    [Fact]
    public void LoadFromString_BareAmpersand_IsTakenLiterallyAsWazuhDoes()
    {
        var result = ConfigTest.Load("<ossec_config>\n<localfile><command>test -f /x && echo y</command></localfile>\n</ossec_config>");

        Assert.False(result.HasErrors);
    }

    [Fact]
    public void LoadFromString_NoRoot_IsAnError()
    {
        var result = ConfigTest.Load("<!-- nothing -->\n");

        Assert.Equal("ossec.conf:1: error: no <ossec_config> element: the file configures nothing", result.SingleError());
    }

    [Fact]
    public void LoadFromString_OtherRootElement_IsAnError()
    {
        var result = ConfigTest.Load("<ossec_config/>\n<agent_config>\n</agent_config>\n");

        Assert.Equal("ossec.conf:2: error: <agent_config> is not a valid top-level element; blocks go inside <ossec_config>", result.SingleError());
    }

    [Fact]
    public void LoadFromString_UnimplementedBlocks_OneWarningPerElementName()
    {
        var result = ConfigTest.LoadBlocks("""
            <localfile><location>/var/log/a</location></localfile>
            <rootcheck><disabled>no</disabled></rootcheck>
            <localfile><location>/var/log/b</location></localfile>
            """);

        Assert.False(result.HasErrors);
        Assert.Equal(
            [
                "ossec.conf:2: warning: <localfile> is not implemented by Vigil and is ignored (2 blocks)",
                "ossec.conf:3: warning: <rootcheck> is not implemented by Vigil and is ignored",
            ],
            result.Warnings());
    }

    [Fact]
    public void LoadFromString_SeveralErrors_AllReportedInFileOrder()
    {
        var result = ConfigTest.LoadBlocks("""
            <alerts><log_alert_level>17</log_alert_level></alerts>
            <syscheck>
              <frequency>12h</frequency>
              <directories realtime="maybe">/root</directories>
              <max_eps>-1</max_eps>
            </syscheck>
            <integration><name>virustotl</name></integration>
            <active-response><command>missing</command><location>local</location></active-response>
            """);

        Assert.Equal(
            [
                "ossec.conf:2: error: <log_alert_level> must be from 1 to 16, got '17'",
                "ossec.conf:4: error: <frequency> must be a whole number of seconds, got '12h'",
                "ossec.conf:5: error: attribute realtime on <directories> must be 'yes' or 'no', got 'maybe'",
                "ossec.conf:6: error: <max_eps> must be a whole number of events per second, got '-1'",
                "ossec.conf:8: error: <name> must be virustotal, slack, pagerduty, shuffle, maltiverse or custom-<name>, got 'virustotl'",
                "ossec.conf:9: error: <command> 'missing' names no <command> block (none is defined)",
            ],
            result.Errors());
    }

    [Fact]
    public void LoadFromString_YesNo_IsCaseSensitiveLikeWazuh()
    {
        var result = ConfigTest.LoadBlocks("<global><jsonout_output>Yes</jsonout_output></global>");

        Assert.Equal("ossec.conf:2: error: <jsonout_output> must be 'yes' or 'no' (lower case, as Wazuh requires), got 'Yes'", result.SingleError());
    }

    [Fact]
    public void LoadFromString_Global_ReadsEveryOptionAndAccumulatesWhiteList()
    {
        var result = ConfigTest.Load("""
            <ossec_config>
              <global>
                <jsonout_output>no</jsonout_output>
                <alerts_log>no</alerts_log>
                <logall>yes</logall>
                <logall_json>yes</logall_json>
                <email_notification>yes</email_notification>
                <email_to>someone@example.com</email_to>
                <white_list>127.0.0.1</white_list>
              </global>
            </ossec_config>
            <ossec_config>
              <global><white_list>10.0.0.0/8</white_list><min_free_disk>2GB</min_free_disk></global>
              <syscheck><directories>/srv</directories><max_realtime_watches>5000</max_realtime_watches></syscheck>
              <alerts><email_alert_level>10</email_alert_level></alerts>
            </ossec_config>
            """);

        Assert.Empty(result.Diagnostics);
        var global = result.Config.Global;
        Assert.False(global.JsonOutput);
        Assert.False(global.AlertsLog);
        Assert.True(global.LogAll);
        Assert.True(global.LogAllJson);
        Assert.True(global.EmailNotification);
        Assert.Equal(["127.0.0.1", "10.0.0.0/8"], global.WhiteList);
        Assert.Equal(2L << 30, global.MinFreeDiskBytes);
        Assert.Equal(5000, result.Config.Syscheck.MaxRealtimeWatches);
        Assert.Equal(10, result.Config.Alerts.EmailAlertLevel);
    }

    [Fact]
    public void LoadFromString_MinFreeDisk_DefaultsTo1GBAndZeroTurnsItOff_NotASizeIsAnError()
    {
        Assert.Equal(1L << 30, ConfigTest.LoadBlocks("<global><logall>no</logall></global>").Config.Global.MinFreeDiskBytes);
        Assert.Equal(0, ConfigTest.LoadBlocks("<global><min_free_disk>0</min_free_disk></global>").Config.Global.MinFreeDiskBytes);
        Assert.Contains("<min_free_disk> must be a size such as 1GB", ConfigTest.LoadBlocks("<global><min_free_disk>lots</min_free_disk></global>").SingleError(), StringComparison.Ordinal);
    }

    [Fact]
    public void LoadFromString_UnknownAlertsOption_IsAnError()
    {
        var result = ConfigTest.LoadBlocks("<alerts><log_level>3</log_level></alerts>");

        Assert.StartsWith("ossec.conf:2: error: <log_level> is not a valid option of <alerts>; allowed: log_alert_level", result.SingleError());
    }

    [Fact]
    public void LoadFromString_NoRuleset_KeepsTheDefault()
    {
        var result = ConfigTest.LoadBlocks("<alerts/>");

        Assert.True(result.Config.Ruleset.IsDefault);
    }

    [Fact]
    public void LoadFromString_Ruleset_ReadsEveryListInOrder()
    {
        var result = ConfigTest.LoadBlocks("""
            <ruleset>
              <decoder_dir>ruleset/decoders</decoder_dir>
              <decoder_include>etc/decoders/extra.xml</decoder_include>
              <decoder_exclude>0005-wazuh_decoders.xml</decoder_exclude>
              <rule_dir>ruleset/rules</rule_dir>
              <rule_dir>etc/rules</rule_dir>
              <rule_include>config/rules/local_rules.xml</rule_include>
              <rule_exclude>0215-policy_rules.xml</rule_exclude>
              <list>etc/lists/malware-hashes</list>
              <user_defined_decoder>x</user_defined_decoder>
            </ruleset>
            """);

        Assert.False(result.HasErrors);
        Assert.Contains("<user_defined_decoder> is not supported", Assert.Single(result.Warnings()));
        var ruleset = result.Config.Ruleset;
        Assert.False(ruleset.IsDefault);
        Assert.Equal(["ruleset/decoders"], ruleset.DecoderDirs);
        Assert.Equal(["etc/decoders/extra.xml"], ruleset.DecoderFiles);
        Assert.Equal(["0005-wazuh_decoders.xml"], ruleset.DecoderExcludes);
        Assert.Equal(["ruleset/rules", "etc/rules"], ruleset.RuleDirs);
        Assert.Equal(["config/rules/local_rules.xml"], ruleset.RuleFiles);
        Assert.Equal(["0215-policy_rules.xml"], ruleset.RuleExcludes);
        Assert.Equal(["etc/lists/malware-hashes"], ruleset.Lists);
    }

    [Fact]
    public void LoadFromString_Cluster_ReadsNameNodeAndDisabled()
    {
        var result = ConfigTest.LoadBlocks("<cluster><name>prod</name><node_name>master-1</node_name><node_type>master</node_type><disabled>no</disabled></cluster>");

        Assert.Empty(result.Diagnostics);
        Assert.Equal(new ClusterOptions { Name = "prod", NodeName = "master-1", Disabled = false }, result.Config.Cluster);
    }

    [Fact]
    public void LoadFromString_HomeOption_WinsOverEnvironment()
    {
        var result = OssecConfigLoader.LoadFromString("<ossec_config/>", "/srv/x/etc/ossec.conf", new ConfigLoadOptions
        {
            Home = "/opt/h",
            GetEnvironmentVariable = _ => "/from/env",
        });

        Assert.Equal("/opt/h", result.Config.Home);
        Assert.Equal("/srv/x/etc/ossec.conf", result.Config.SourcePath);
    }

    [Fact]
    public void LoadFromString_VigilHomeVariable_SetsHome()
    {
        var result = OssecConfigLoader.LoadFromString("<ossec_config/>", "/srv/x/etc/ossec.conf", new ConfigLoadOptions
        {
            GetEnvironmentVariable = name => name == OssecConfigLoader.HomeVariable ? "/from/env" : null,
        });

        Assert.Equal("/from/env", result.Config.Home);
    }

    [Fact]
    public void LoadFromString_NoHome_IsTheParentOfTheFilesDirectory()
    {
        var result = OssecConfigLoader.LoadFromString("<ossec_config/>", "/var/ossec/etc/ossec.conf", new ConfigLoadOptions { GetEnvironmentVariable = _ => null });

        Assert.Equal("/var/ossec", result.Config.Home);
        Assert.Equal("/var/ossec/ruleset/rules", result.Config.ResolvePath("ruleset/rules"));
    }

    [Fact]
    public void Load_MissingFile_IsADiagnosticNotAnException()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vigil-missing-{Guid.NewGuid():N}", "ossec.conf");

        var result = OssecConfigLoader.Load(path, ConfigTest.Options());

        Assert.StartsWith($"{path}: error: cannot read the configuration: ", result.SingleError());
    }

    [Fact]
    public void Load_File_NamesThePathAsGivenInDiagnostics()
    {
        var directory = Directory.CreateTempSubdirectory("vigil-config-");
        try
        {
            var path = Path.Combine(directory.FullName, "ossec.conf");
            File.WriteAllText(path, "<ossec_config>\n<syscheck><frequency>soon</frequency></syscheck>\n</ossec_config>\n");

            var result = OssecConfigLoader.Load(path, ConfigTest.Options());

            Assert.Equal($"{path}:2: error: <frequency> must be a whole number of seconds, got 'soon'", result.SingleError());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
