using Vigil.Core.Configuration;

namespace Vigil.Core.Tests.Configuration;

public sealed class IntegrationReaderTests
{
    private const string Key = "0123456789abcdef-super-secret";

    private static readonly Dictionary<string, string> KeyInEnvironment = new() { [OssecConfigLoader.VirusTotalKeyVariable] = Key };

    [Fact]
    public void Load_EveryOption_IsRead()
    {
        var result = ConfigTest.LoadBlocks("""
            <integration>
              <name>custom-teams</name>
              <api_key>abc</api_key>
              <hook_url>https://hooks.example.com/x</hook_url>
              <level>10</level>
              <rule_id>100200, 100201 ,87105</rule_id>
              <group>syscheck,virustotal</group>
              <event_location>syscheck</event_location>
              <alert_format>json</alert_format>
              <options>{"channel": "#sec"}</options>
              <timeout>20</timeout>
              <retries>0</retries>
              <max_log>1024</max_log>
            </integration>
            """);

        Assert.Empty(result.Diagnostics);
        var integration = Assert.Single(result.Config.Integrations);
        Assert.Equal("custom-teams", integration.Name);
        Assert.Equal("abc", integration.ApiKey.Reveal());
        Assert.Equal("https://hooks.example.com/x", integration.HookUrl);
        Assert.Equal(10, integration.Level);
        Assert.Equal(["100200", "100201", "87105"], integration.RuleIds);
        Assert.Equal(["syscheck", "virustotal"], integration.Groups);
        Assert.Equal("syscheck", integration.EventLocation);
        Assert.Equal("""{"channel": "#sec"}""", integration.Options);
        Assert.Equal(20, integration.TimeoutSeconds);
        Assert.Equal(0, integration.Retries);
        Assert.Equal(1024, integration.MaxLog);
        Assert.Equal(new SourceLocation("ossec.conf", 2), integration.Source);
    }

    [Fact]
    public void Load_Defaults_MatchWazuh()
    {
        var integration = Assert.Single(ConfigTest.LoadBlocks("<integration><name>slack</name></integration>").Config.Integrations);

        Assert.Null(integration.Level);
        Assert.Empty(integration.RuleIds);
        Assert.Empty(integration.Groups);
        Assert.Equal(10, integration.TimeoutSeconds);
        Assert.Equal(3, integration.Retries);
        Assert.Equal(165, integration.MaxLog);
        Assert.True(integration.ApiKey.IsEmpty);
    }

    [Fact]
    public void Load_VirusTotalEmptyKey_TakesItFromTheEnvironment()
    {
        var result = ConfigTest.LoadBlocks("<integration><name>virustotal</name><api_key></api_key></integration>", KeyInEnvironment);

        Assert.Empty(result.Diagnostics);
        Assert.Equal(Key, Assert.Single(result.Config.Integrations).ApiKey.Reveal());
    }

    [Fact]
    public void Load_VirusTotalAbsentKey_TakesItFromTheEnvironment()
    {
        var result = ConfigTest.LoadBlocks("<integration><name>virustotal</name></integration>", KeyInEnvironment);

        Assert.Equal(Key, Assert.Single(result.Config.Integrations).ApiKey.Reveal());
    }

    [Fact]
    public void Load_VirusTotalKeyInFile_WinsOverTheEnvironment()
    {
        var result = ConfigTest.LoadBlocks("<integration><name>virustotal</name><api_key>from-file</api_key></integration>", KeyInEnvironment);

        Assert.Equal("from-file", Assert.Single(result.Config.Integrations).ApiKey.Reveal());
    }

    [Fact]
    public void Load_OtherIntegration_DoesNotTakeTheVirusTotalKey()
    {
        var result = ConfigTest.LoadBlocks("<integration><name>slack</name></integration>", KeyInEnvironment);

        Assert.True(Assert.Single(result.Config.Integrations).ApiKey.IsEmpty);
    }

    [Fact]
    public void Load_VirusTotalWithoutAnyKey_WarnsAndStillLoads()
    {
        var result = ConfigTest.LoadBlocks("<integration><name>virustotal</name></integration>");

        Assert.False(result.HasErrors);
        Assert.Contains("set <api_key> or the VIGIL_VT_API_KEY environment variable", Assert.Single(result.Warnings()));
        Assert.Single(result.Config.Integrations);
    }

    [Fact]
    public void Load_Secret_NeverAppearsInDiagnosticsOrToString()
    {
        var result = ConfigTest.LoadBlocks($"""
            <integration>
              <name>virustotal</name>
              <api_key>{Key}</api_key>
              <alert_format>text</alert_format>
              <options>not json</options>
              <bogus>{Key}</bogus>
            </integration>
            <integration>
              <name>nope</name>
              <api_key>{Key}</api_key>
            </integration>
            <integration><name>virustotal</name></integration>
            """, KeyInEnvironment);

        Assert.True(result.HasErrors);
        Assert.All(result.Diagnostics, d => Assert.DoesNotContain(Key, d.ToString()));
        Assert.DoesNotContain(Key, result.Config.ToString());
        Assert.All(result.Config.Integrations, i => Assert.DoesNotContain(Key, i.ToString()));
        Assert.Equal("(redacted)", result.Config.Integrations[0].ApiKey.ToString());
    }

    [Fact]
    public void Load_MalformedLineWithKey_DoesNotQuoteTheParser()
    {
        var result = ConfigTest.LoadBlocks("<integration>\n<name>virustotal</name>\n<api_key>abc<secretpart</api_key>\n</integration>");

        var error = result.SingleError();
        Assert.StartsWith("ossec.conf:4: error: malformed XML: the line with <api_key> is not well-formed", error);
        Assert.DoesNotContain("secretpart", error);
    }

    [Theory]
    [InlineData("<name>virustotal2</name>", "<name> must be virustotal, slack, pagerduty, shuffle, maltiverse or custom-<name>, got 'virustotal2'")]
    [InlineData("<name>custom-</name>", "<name> must be virustotal, slack, pagerduty, shuffle, maltiverse or custom-<name>, got 'custom-'")]
    [InlineData("<name>slack</name><level>17</level>", "<level> must be from 0 to 16, got '17'")]
    [InlineData("<name>slack</name><rule_id>100200,abc</rule_id>", "<rule_id> must be a comma-separated list of rule ids such as 100200,100201, got 'abc'")]
    [InlineData("<name>slack</name><options>[1,2]</options>", "<options> must be a JSON object such as {\"key\": \"value\"}")]
    [InlineData("<name>slack</name><options>{oops</options>", "<options> must be a JSON object such as {\"key\": \"value\"}")]
    [InlineData("<name>slack</name><timeout>0</timeout>", "<timeout> must be a positive whole number of seconds, got '0'")]
    [InlineData("<name>slack</name><retries>-1</retries>", "<retries> must be a whole number, got '-1'")]
    [InlineData("<name>slack</name><max_log>100</max_log>", "<max_log> must be from 165 to 1024, got '100'")]
    [InlineData("<name>slack</name><webhook>x</webhook>", "<webhook> is not a valid option of <integration>; allowed: name, api_key,")]
    [InlineData("<name>virustotal</name><alert_format>text</alert_format>", "<alert_format> must be 'json' for virustotal, got 'text'")]
    [InlineData("<api_key>x</api_key>", "<integration> needs a <name>: virustotal, slack, pagerduty, shuffle, maltiverse or custom-<name>")]
    public void Load_InvalidValue_ReportsLineAndAllowedValues(string elements, string message)
    {
        var result = ConfigTest.LoadBlocks($"<integration>{elements}</integration>", KeyInEnvironment);

        Assert.StartsWith($"ossec.conf:2: error: {message}", result.SingleError());
    }
}
