namespace Vigil.Analysis.Tests.Rules;

/// <summary>The built-in engine rules (ruleset/rules/0494-vigil_engine_rules.xml) on the messages the engines send.</summary>
public sealed class EngineRulesTests
{
    [Theory]
    [InlineData("yara", "detected", 200601)]
    [InlineData("yara", "error", 200602)]
    [InlineData("yara", "skipped", 200603)]
    [InlineData("yara", "reload_error", 200604)]
    [InlineData("clamav", "detected", 200701)]
    [InlineData("clamav", "down", 200702)]
    [InlineData("clamav", "error", 200702)]
    [InlineData("clamav", "skipped", 200703)]
    [InlineData("clamav", "no_database", 200704)]
    public void Engine_Status_RaisesItsRule(string engine, string status, int rule)
    {
        using var harness = new RuleHarness();
        var json = $$$"""{"engine": {"name": "{{{engine}}}", "version": "v1", "status": "{{{status}}}", "rule": "R", "detail": "d"}, "yara_rule": "R", "yara_scanned_file": "/root/a", "clamav": {"signature": "S", "file": "/root/a"}, "vigil": {"engine": "{{{engine}}}", "source": {"file": "/root/a"}}, "integration": "vigil-engine"}""";

        var result = harness.Process("1:vigil-engine:" + json);

        Assert.Equal(rule, result.Alert?.Rule.Id);
    }

    [Fact]
    public void YaraDetection_DescriptionNamesRuleAndFile()
    {
        using var harness = new RuleHarness();
        var json = """{"engine": {"name": "yara", "version": "v1", "status": "detected", "rule": "Webshell_Eval"}, "yara_rule": "Webshell_Eval", "yara_scanned_file": "/var/www/x.php", "integration": "vigil-engine"}""";

        var result = harness.Process("1:[001] (web) 10.0.0.2->vigil-engine:" + json);

        Assert.Equal(12, result.Alert!.Rule.Level);
        Assert.Contains("\"description\":\"Vigil: YARA rule Webshell_Eval matched /var/www/x.php\"", result.AlertJson, StringComparison.Ordinal);
    }
}
