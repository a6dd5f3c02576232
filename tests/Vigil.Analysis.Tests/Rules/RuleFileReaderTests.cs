using Vigil.Core.Diagnostics;

namespace Vigil.Analysis.Tests.Rules;

public sealed class RuleFileReaderTests
{
    private static Diagnostic SingleError(string rules)
    {
        using var harness = new RuleHarness(rules);
        var errors = harness.Diagnostics.Items.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        var error = Assert.Single(errors);
        Assert.Equal(harness.RulesFile, error.File);
        return error;
    }

    [Fact]
    public void Read_MalformedXml_ReportsFileAndLine()
    {
        var error = SingleError("""
            <group name="test,">
              <rule id="100001" level="3">
                <description>unclosed
              </rule>
            </group>
            """);
        Assert.Equal(4, error.Line);
        Assert.StartsWith("malformed rule file:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnknownParent_ReportsTheRuleLine()
    {
        var error = SingleError("""
            <group name="test,">

              <rule id="100001" level="3"><if_sid>999999</if_sid><description>x</description></rule>
            </group>
            """);
        Assert.Equal(3, error.Line);
        Assert.Contains("if_sid 999999 names no loaded rule", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_BadRegex_NamesElementAndProblem()
    {
        var error = SingleError("""
            <group name="test,">
              <rule id="100001" level="3">
                <if_sid>87100</if_sid>
                <regex>abc\q</regex>
                <description>x</description>
              </rule>
            </group>
            """);
        Assert.Equal(4, error.Line);
        Assert.StartsWith("<regex>: invalid OSRegex", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_BadPcre2Field_NamesElementAndProblem()
    {
        var error = SingleError("""
            <group name="test,">
              <rule id="100001" level="3">
                <if_sid>87100</if_sid>
                <field name="x" type="pcre2">(unclosed</field>
                <description>x</description>
              </rule>
            </group>
            """);
        Assert.Equal(4, error.Line);
        Assert.StartsWith("<field>: invalid PCRE2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_DuplicateId_PointsAtBothDefinitions()
    {
        var error = SingleError("""
            <group name="test,">
              <rule id="100001" level="3"><if_sid>87100</if_sid><description>a</description></rule>
              <rule id="100001" level="3"><if_sid>87100</if_sid><description>b</description></rule>
            </group>
            """);
        Assert.Equal(3, error.Line);
        Assert.Contains("duplicate rule id 100001 (first defined at ", error.Message, StringComparison.Ordinal);
        Assert.Contains(":2)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_DuplicateOfBuiltInId_IsAnError()
    {
        var error = SingleError("""
            <group name="test,">
              <rule id="554" level="3"><if_sid>87100</if_sid><description>clash</description></rule>
            </group>
            """);
        Assert.Contains("duplicate rule id 554", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<rule id=\"100001\" level=\"17\">", "level '17' is invalid: expected a level from 0 to 16")]
    [InlineData("<rule id=\"1000001\" level=\"3\">", "id '1000001' is invalid: expected a rule id of 1 to 6 digits")]
    [InlineData("<rule id=\"x\" level=\"3\">", "id 'x' is invalid")]
    [InlineData("<rule id=\"100001\" level=\"3\" frequency=\"1\">", "frequency '1' is invalid: expected a count from 2 to 9999")]
    [InlineData("<rule id=\"100001\" level=\"3\" overwrite=\"maybe\">", "attribute overwrite must be yes or no, got 'maybe'")]
    [InlineData("<rule id=\"100001\" level=\"3\" colour=\"red\">", "unknown <rule> attribute 'colour'")]
    public void Read_BadAttributeValue_SaysWhatIsAllowed(string openTag, string expected)
    {
        var error = SingleError($"""
            <group name="test,">
              {openTag}<if_sid>87100</if_sid><description>x</description></rule>
            </group>
            """);
        Assert.Equal(2, error.Line);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<options>no_such_option</options>", "unknown option 'no_such_option'")]
    [InlineData("<decoded_as>sshd</decoded_as>", "<decoded_as> names unknown decoder 'sshd'")]
    [InlineData("<category>nonsense</category>", "<category> 'nonsense' is not one of")]
    [InlineData("<field name=\"srcip\">1.2.3.4</field>", "names a static field: use the <srcip> element instead")]
    [InlineData("<same_source_ip />", "Invalid use of frequency/context options. Missing if_matched_sid")]
    [InlineData("<match negate=\"perhaps\">x</match>", "negate must be yes or no")]
    [InlineData("<srcip>10.0.0.300</srcip>", "'10.0.0.300' is not an IP address")]
    [InlineData("<bogus>1</bogus>", "unknown rule element <bogus>")]
    public void Read_BadElement_IsReportedAtItsLine(string element, string expected)
    {
        var error = SingleError($"""
            <group name="test,">
              <rule id="100001" level="3">
                <if_sid>87100</if_sid>
                {element}
                <description>x</description>
              </rule>
            </group>
            """);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.InRange(error.Line, 2, 4);
    }

    [Fact]
    public void Read_MissingDescription_IsAnError()
    {
        var error = SingleError("""
            <group name="test,">
              <rule id="100001" level="3"><if_sid>87100</if_sid></rule>
            </group>
            """);
        Assert.Equal("<description> is mandatory", error.Message);
    }

    [Fact]
    public void Read_SeveralErrors_AreAllReported()
    {
        using var harness = new RuleHarness("""
            <group name="test,">
              <rule id="100001" level="99"><if_sid>87100</if_sid><description>a</description></rule>
              <rule id="100002" level="3"><if_sid>424242</if_sid><description>b</description></rule>
              <rule id="100003" level="3"><if_sid>87100</if_sid><regex>(</regex><description>c</description></rule>
            </group>
            """);
        Assert.Equal([2, 3, 4], harness.Diagnostics.Items.Select(d => d.Line).Order());
    }

    [Fact]
    public void Read_Variables_AreExpandedInElementsAndAttributes()
    {
        using var harness = new RuleHarness("""
            <var name="BAD">evil|worse</var>
            <var name="LVL">9</var>
            <group name="test,">
              <rule id="100001" level="$LVL"><if_sid>87100</if_sid><match>$BAD</match><description>bad word</description></rule>
            </group>
            """);
        Assert.Empty(harness.Diagnostics.Items);
        Assert.Equal(9, harness.Rules.Find(100001)!.Level);
        Assert.True(harness.Rules.Find(100001)!.Match!.IsMatch("this is WORSE"));
    }

    private const string JsonBase = """
        <group name="test,">
          <rule id="100000" level="0">
            <decoded_as>json</decoded_as>
            <field name="app">demo</field>
            <description>demo base</description>
          </rule>
        </group>
        """;

    [Theory]
    [InlineData("<field name=\"msg\">a&b</field>", "xa&by", true)]
    [InlineData("<field name=\"msg\">^abc\\<d</field>", "abc<d", true)]
    [InlineData("<field name=\"msg\">&lt;script</field>", "<script", false)]
    [InlineData("<field name=\"msg\">&lt;script</field>", "&lt;script", true)]
    [InlineData("<field name=\"msg\" type=\"osmatch\">a|b|c| </field>", "def", false)]
    [InlineData("<field name=\"msg\" type=\"osmatch\">a|b|c| </field>", "d f", true)]
    public void Read_TextAsWazuhReadsIt_LoadsAndMatches(string condition, string message, bool fires)
    {
        using var harness = new RuleHarness(JsonBase + $$"""
            <group name="test,">
              <rule id="100001" level="5">
                <if_sid>100000</if_sid>
                {{condition}}
                <description>literal text</description>
              </rule>
            </group>
            """);

        Assert.DoesNotContain(harness.Diagnostics.Items, d => d.Severity == DiagnosticSeverity.Error);
        var json = System.Text.Json.JsonSerializer.Serialize(new { app = "demo", msg = message });
        Assert.Equal(fires ? 100001 : null, harness.RuleOf(Events.Json(json)));
    }

    [Theory]
    [InlineData("alpha", true)]
    [InlineData("gamma", true)]
    [InlineData("beta", false)]
    [InlineData("beta\n      x", true)]
    public void Read_FieldAlternationContinuedOnTheNextLine_KeepsTheLineBreakInItsAlternative(string message, bool fires)
    {
        using var harness = new RuleHarness(JsonBase + """
            <group name="test,">
              <rule id="100001" level="5">
                <if_sid>100000</if_sid>
                <field name="msg">^alpha$|^beta
                  |^gamma$</field>
                <description>continued alternation</description>
              </rule>
            </group>
            """);

        var json = System.Text.Json.JsonSerializer.Serialize(new { app = "demo", msg = message });
        Assert.Equal(fires ? 100001 : null, harness.RuleOf(Events.Json(json)));
    }

    [Fact]
    public void Read_PatternNeedingBacktracking_WarnsAtItsLine()
    {
        using var harness = new RuleHarness(JsonBase + """
            <group name="test,">
              <rule id="100001" level="5">
                <if_sid>100000</if_sid>
                <field name="msg" type="pcre2">(\w)\1</field>
                <description>backreference</description>
              </rule>
            </group>
            """);

        var warning = Assert.Single(harness.Diagnostics.Items, d => d.Message.Contains("match timeout", StringComparison.Ordinal));
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal(10, warning.Line);
        Assert.Equal(100001, harness.RuleOf(Events.Json("""{"app":"demo","msg":"aa"}""")));
    }
}
