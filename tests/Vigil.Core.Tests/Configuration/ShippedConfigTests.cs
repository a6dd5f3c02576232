using Vigil.Core.Configuration;
using Vigil.Tests.Common;

namespace Vigil.Core.Tests.Configuration;

public sealed class ShippedConfigTests
{
    private static readonly string ConfigPath = Path.Combine(ConfigTest.RepositoryRoot(), "config", "ossec.conf");

    private static ConfigLoadResult LoadShipped(string? apiKey = "k3y-from-env") =>
        OssecConfigLoader.Load(ConfigPath, new ConfigLoadOptions
        {
            GetEnvironmentVariable = name => name == OssecConfigLoader.VirusTotalKeyVariable ? apiKey : null,
        });

    [Fact]
    public void Load_ShippedConfig_HasNoDiagnostics()
    {
        var result = LoadShipped();

        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void Load_ShippedConfigWithoutKey_WarnsOnlyAboutTheKey()
    {
        var result = LoadShipped(apiKey: null);

        Assert.False(result.HasErrors);
        var warning = Assert.Single(result.Warnings());
        Assert.Contains("VIGIL_VT_API_KEY", warning);
    }

    [Fact]
    public void Load_ShippedConfig_HomeIsTheCheckout()
    {
        var config = LoadShipped().Config;

        Assert.Equal(ConfigTest.RepositoryRoot(), config.Home);
        Assert.Equal(ConfigPath, config.SourcePath);
        Assert.Equal(Path.Combine(ConfigTest.RepositoryRoot(), "config", "rules", "local_rules.xml"), config.ResolvePath(config.Ruleset.RuleFiles[0]));
    }

    [Fact]
    public void Load_ShippedConfig_MonitorsRootInRealtime()
    {
        var syscheck = LoadShipped().Config.Syscheck;

        Assert.False(syscheck.Disabled);
        Assert.Equal(43200, syscheck.FrequencySeconds);
        Assert.True(syscheck.ScanOnStart);
        var root = Assert.Single(syscheck.Directories);
        Assert.Equal("/root", root.Path);
        Assert.True(root.Realtime);
        Assert.Equal("realtime", root.Mode);
        Assert.Equal(FimChecks.All, root.Checks);
        Assert.Equal(300, syscheck.SynchronizationIntervalSeconds);
    }

    [Fact]
    public void Load_ShippedConfig_HasTheSeedVirusTotalIntegration()
    {
        var integration = Assert.Single(LoadShipped().Config.Integrations);

        Assert.Equal("virustotal", integration.Name);
        Assert.Equal(["100200", "100201"], integration.RuleIds);
        Assert.Equal("json", integration.AlertFormat);
        Assert.Equal("k3y-from-env", integration.ApiKey.Reveal());
    }

    [Fact]
    public void Load_ShippedConfig_RemovesThreatsLocallyOn87105AndLocalIntelligence()
    {
        var config = LoadShipped().Config;

        var command = Assert.Single(config.Commands);
        Assert.Equal("remove-threat", command.Name);
        Assert.Equal("remove-threat", command.Executable);
        Assert.False(command.TimeoutAllowed);
        var response = Assert.Single(config.ActiveResponses);
        Assert.Equal("remove-threat", response.Command);
        Assert.Equal(ActiveResponseLocations.Local, response.Location);
        Assert.Equal(["87105", "200100", "200601", "200701", "200800", "200801"], response.RulesId);
        Assert.Equal("remove-threat0", response.WireName);
    }

    [Fact]
    public void Load_ShippedConfig_HasTheSeedOutputAndRuleset()
    {
        var config = LoadShipped().Config;

        Assert.True(config.Global.JsonOutput);
        Assert.Equal(3, config.Alerts.LogAlertLevel);
        Assert.False(config.Ruleset.IsDefault);
        Assert.Equal(["ruleset/rules"], config.Ruleset.RuleDirs);
        Assert.Equal(["config/rules/local_rules.xml"], config.Ruleset.RuleFiles);
        // The decoder folder and file the shipped config names exist (a missing one is a warning, not silence).
        Assert.Equal(["ruleset/decoders"], config.Ruleset.DecoderDirs);
        Assert.Equal(["config/decoders/local_decoder.xml"], config.Ruleset.DecoderFiles);
        Assert.True(Directory.Exists(RepositoryPaths.Get("ruleset", "decoders")));
        Assert.True(File.Exists(RepositoryPaths.Get("config", "decoders", "local_decoder.xml")));
    }

    [Fact]
    public void LocalRules_HoldTheSeedRulesVerbatim()
    {
        var rules = File.ReadAllText(Path.Combine(ConfigTest.RepositoryRoot(), "config", "rules", "local_rules.xml"));

        Assert.Contains("""
                <rule id="100201" level="7">
                    <if_sid>554</if_sid>
                    <field name="file">/root</field>
                    <description>File added to /root directory.</description>
                </rule>
            """, rules);
        Assert.Contains(
            "<description>$(parameters.program) removed threat located at $(parameters.alert.data.virustotal.source.file)</description>",
            rules);
        foreach (var id in new[] { "100200", "100201", "100092", "100093" })
        {
            Assert.Contains($"<rule id=\"{id}\"", rules);
        }
    }
}
