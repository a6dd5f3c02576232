using System.Text.Json;
using Vigil.Core.Configuration;

namespace Vigil.Analysis.Tests.Alerts;

public sealed class ActiveResponseMessagesTests
{
    private static OssecConfig Config(params ActiveResponseOptions[] ars) => new()
    {
        Commands = [new() { Name = "remove-threat", Executable = "remove-threat", ExtraArgs = ["delete"] }],
        ActiveResponses = ars,
    };

    [Fact]
    public void Binding_RulesId_GivesWazuhMessageWithWholeAlert()
    {
        using var harness = new RuleHarness(config: Config(new ActiveResponseOptions
        {
            Command = "remove-threat",
            Location = ActiveResponseLocations.Local,
            RulesId = ["87105"],
        }));
        var result = harness.Process("""1:[002] (db) 10.0.0.7->virustotal:{"virustotal": {"found": 1, "malicious": 1, "source": {"file": "/root/eicar.com"}, "positives": 66}, "integration": "virustotal"}""");
        var ar = Assert.Single(result.ActiveResponses);
        Assert.Equal("remove-threat0", ar.Name);
        Assert.Equal("002", ar.TargetAgentId);
        using var doc = JsonDocument.Parse(ar.Json);
        var root = doc.RootElement;
        Assert.Equal(["version", "origin", "command", "parameters"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        Assert.Equal("wazuh-analysisd", root.GetProperty("origin").GetProperty("module").GetString());
        Assert.Equal("remove-threat0", root.GetProperty("command").GetString());
        Assert.Equal(["delete"], root.GetProperty("parameters").GetProperty("extra_args").EnumerateArray().Select(a => a.GetString()));
        var alert = root.GetProperty("parameters").GetProperty("alert");
        Assert.Equal("87105", alert.GetProperty("rule").GetProperty("id").GetString());
        Assert.Equal("/root/eicar.com", alert.GetProperty("data").GetProperty("virustotal").GetProperty("source").GetProperty("file").GetString());
        Assert.Equal(result.AlertJson, alert.GetRawText());
    }

    [Fact]
    public void Binding_LevelAndGroupTogether_NeedBoth()
    {
        using var harness = new RuleHarness(config: Config(new ActiveResponseOptions
        {
            Command = "remove-threat",
            Location = ActiveResponseLocations.Server,
            Level = 7,
            RulesGroup = "syscheck_entry_added",
        }));
        Assert.Empty(harness.Process(Events.Fim("/tmp/x")).ActiveResponses); // 554 is level 5
        Assert.Empty(harness.Process(Events.Fim("/tmp/x", "deleted")).ActiveResponses); // 553 is level 7, wrong group
        var rule553 = harness.Rules.Find(553)!;
        var rule554 = harness.Rules.Find(554)!;
        Assert.Empty(rule553.ActiveResponses); // level 7 but group does not match
        Assert.Empty(rule554.ActiveResponses); // group matches but level 5 < 7
    }

    [Fact]
    public void Binding_LevelAlone_BindsEveryRuleAtOrAboveIt_ButNotLevelZeroOrNoAr()
    {
        using var harness = new RuleHarness(config: Config(new ActiveResponseOptions
        {
            Command = "remove-threat",
            Location = ActiveResponseLocations.All | ActiveResponseLocations.Server,
            Level = 12,
        }));
        Assert.Single(harness.Rules.Find(87105)!.ActiveResponses);
        Assert.Empty(harness.Rules.Find(87100)!.ActiveResponses);
        Assert.Empty(harness.Rules.Find(554)!.ActiveResponses);
        var result = harness.Process("""1:virustotal:{"virustotal": {"malicious": 1}, "integration": "virustotal"}""");
        Assert.Equal(["000", "all"], result.ActiveResponses.Select(a => a.TargetAgentId).Order());
    }

    [Fact]
    public void Binding_UnsafeDstuser_SkipsTheResponse()
    {
        using var harness = new RuleHarness(config: Config(new ActiveResponseOptions
        {
            Command = "remove-threat",
            Location = ActiveResponseLocations.Local,
            RulesId = ["87105"],
        }));
        var result = harness.Process("""1:virustotal:{"virustotal": {"malicious": 1}, "integration": "virustotal", "dstuser": "x;rm -rf /"}""");
        Assert.Equal(87105, result.Alert!.Rule.Id);
        Assert.Empty(result.ActiveResponses);
    }
}
