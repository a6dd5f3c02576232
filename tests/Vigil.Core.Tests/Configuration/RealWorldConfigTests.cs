using Vigil.Core.Configuration;

namespace Vigil.Core.Tests.Configuration;

public sealed class RealWorldConfigTests
{
    private static readonly string SamplePath = Path.Combine(
        ConfigTest.RepositoryRoot(), "tests", "Vigil.Core.Tests", "Configuration", "Samples", "wazuh-manager-ossec.conf");

    private static ConfigLoadResult LoadSample() => OssecConfigLoader.Load(SamplePath, ConfigTest.Options());

    [Fact]
    public void Load_StockWazuhManagerConfig_LoadsWithWarningsOnly()
    {
        var result = LoadSample();

        Assert.Empty(result.Errors());
        Assert.Equal(
            [
                "<logging>", "<remote>", "<rootcheck>", "<wodle>", "<sca>", "<vulnerability-detection>", "<indexer>",
                "<alert_new_files>", "<auto_ignore>", "<localfile>", "<rule_test>", "<auth>",
            ],
            result.Warnings().Select(w => w[(w.IndexOf('<', StringComparison.Ordinal))..(w.IndexOf('>', StringComparison.Ordinal) + 1)]));
        Assert.Contains(result.Warnings(), w => w.EndsWith("<localfile> is not implemented by Vigil and is ignored (7 blocks)", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_StockWazuhManagerConfig_ReadsWhatVigilUses()
    {
        var config = LoadSample().Config;

        Assert.Equal(["127.0.0.1", "^localhost.localdomain$", "10.0.0.2", "127.0.0.53"], config.Global.WhiteList);
        Assert.Equal(12, config.Alerts.EmailAlertLevel);
        Assert.False(config.Syscheck.Disabled);
        Assert.Equal(["/etc", "/usr/bin", "/usr/sbin", "/bin", "/sbin", "/boot"], config.Syscheck.Directories.Select(d => d.Path));
        Assert.Equal(13, config.Syscheck.Ignore.Count);
        Assert.True(config.Syscheck.Ignore[^1].IsSregex);
        Assert.Equal(7, config.Commands.Count);
        Assert.Equal("route-null.exe", config.Commands.Single(c => c.Name == "win_route-null").Executable);
        Assert.Equal("firewall-drop180", Assert.Single(config.ActiveResponses).WireName);
        Assert.Equal(["0215-policy_rules.xml"], config.Ruleset.RuleExcludes);
        Assert.Equal(["ruleset/rules", "etc/rules"], config.Ruleset.RuleDirs);
        Assert.Equal(6, config.Ruleset.Lists.Count);
        Assert.True(config.Cluster.Disabled);
        Assert.Equal("node01", config.Cluster.NodeName);
    }
}
