namespace Vigil.Analysis.Tests.Rules;

/// <summary>ruleset/rules/0493-vigil_prevention_rules.xml on the messages the fanotify guard writes (PreventionMessages).</summary>
public sealed class PreventionRulesTests
{
    private const string Process = "\"process\":{\"pid\":4242,\"exe\":\"/usr/bin/cat\",\"cmdline\":\"cat /srv/x\",\"uid\":1000}";

    [Theory]
    [InlineData("denied", "deny", "open", 200800, 12)]
    [InlineData("denied", "deny", "exec", 200801, 12)]
    [InlineData("would_deny", "allow", "open", 200802, 10)]
    [InlineData("would_deny", "allow", "exec", 200802, 10)]
    [InlineData("deadline", "allow", "exec", 200803, 7)]
    [InlineData("overload", "allow", null, 200804, 9)]
    [InlineData("unavailable", "none", null, 200805, 7)]
    [InlineData("stopped", "allow", null, 200806, 10)]
    [InlineData("error", "deny", "open", 200807, 7)]
    public void PreventionMessage_EachEvent_RaisesItsRule(string name, string decision, string? access, int rule, int level)
    {
        using var harness = new RuleHarness();
        var file = access is null ? "" : $",\"access\":\"{access}\",\"mode\":\"block\",\"file\":\"/srv/x\",\"sha256\":\"{new string('a', 64)}\",\"source\":\"builtin\",{Process}";
        var line = $"1:vigil-prevention:{{\"vigil\":{{\"prevention\":{{\"event\":\"{name}\",\"decision\":\"{decision}\"{file},\"detail\":\"d\"}}}},\"integration\":\"vigil-prevention\"}}";

        var alert = harness.Process(line).Alert;

        Assert.NotNull(alert);
        Assert.Equal(rule, alert.Rule.Id);
        Assert.Equal(level, alert.Rule.Level);
    }

    [Fact]
    public void DeniedExec_Description_NamesTheFileTheProcessAndTheSource()
    {
        using var harness = new RuleHarness();
        var line = "1:vigil-prevention:{\"vigil\":{\"prevention\":{\"event\":\"denied\",\"decision\":\"deny\",\"access\":\"exec\",\"mode\":\"block\","
            + $"\"file\":\"/srv/x\",\"sha256\":\"{new string('b', 64)}\",\"source\":\"builtin\",{Process}}}}},"
            + "\"virustotal\":{\"source\":{\"file\":\"/srv/x\"}},\"integration\":\"vigil-prevention\"}";

        var alert = harness.Process(line).Alert!;

        Assert.Equal("Vigil prevention: denied executing /srv/x by /usr/bin/cat (pid 4242): builtin", alert.Description);
    }
}
