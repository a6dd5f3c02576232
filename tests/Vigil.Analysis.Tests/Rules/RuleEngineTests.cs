using Vigil.Tests.Common;

namespace Vigil.Analysis.Tests.Rules;

public sealed class RuleEngineTests
{
    private const string Base = """
        <group name="test,">
          <rule id="100000" level="0">
            <decoded_as>json</decoded_as>
            <field name="app">demo</field>
            <description>demo base</description>
          </rule>
        </group>
        """;

    [Fact]
    public void Match_SiblingsSameLevel_FirstLoadedWins()
    {
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="5"><if_sid>100000</if_sid><field name="msg">hello</field><description>first</description></rule>
              <rule id="100002" level="5"><if_sid>100000</if_sid><field name="msg">hello</field><description>second</description></rule>
            </group>
            """);
        Assert.Empty(harness.Diagnostics.Items);
        Assert.Equal(100001, harness.RuleOf(Events.Json("""{"app":"demo","msg":"hello"}""")));
    }

    [Fact]
    public void Match_HigherLevelSibling_IsTriedFirstEvenWhenLoadedLater()
    {
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="3"><if_sid>100000</if_sid><field name="msg">hello</field><description>low</description></rule>
              <rule id="100002" level="10"><if_sid>100000</if_sid><field name="msg">hello</field><description>high</description></rule>
            </group>
            """);
        Assert.Equal(100002, harness.RuleOf(Events.Json("""{"app":"demo","msg":"hello"}""")));
    }

    [Fact]
    public void Match_LevelZeroChild_IsTriedFirstAndSilencesTheEvent()
    {
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="10"><if_sid>100000</if_sid><description>parent alert</description></rule>
              <rule id="100002" level="12"><if_sid>100001</if_sid><field name="msg">hello</field><description>child alert</description></rule>
              <rule id="100003" level="0"><if_sid>100001</if_sid><field name="user_agent">scanner</field><description>silence scanner</description></rule>
            </group>
            """);
        Assert.Equal(100002, harness.RuleOf(Events.Json("""{"app":"demo","msg":"hello"}""")));
        Assert.Null(harness.RuleOf(Events.Json("""{"app":"demo","msg":"hello","user_agent":"scanner"}""")));
        Assert.Equal(100001, harness.RuleOf(Events.Json("""{"app":"demo","msg":"other"}""")));
    }

    [Fact]
    public void Match_DepthFirst_DeepestMatchOfFirstMatchingBranchWins()
    {
        // No "highest level wins" across branches: 100001's subtree is tried before 100002 (same level, loaded first).
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="4"><if_sid>100000</if_sid><description>a</description></rule>
              <rule id="100002" level="4"><if_sid>100000</if_sid><field name="msg">x</field><description>b</description></rule>
              <rule id="100003" level="15"><if_sid>100002</if_sid><description>b child</description></rule>
              <rule id="100004" level="2"><if_sid>100001</if_sid><field name="msg">x</field><description>a child</description></rule>
            </group>
            """);
        Assert.Equal(100004, harness.RuleOf(Events.Json("""{"app":"demo","msg":"x"}""")));
    }

    [Fact]
    public void Match_IfGroup_BecomesChildOfEveryRuleWithThatGroup()
    {
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="3"><if_sid>100000</if_sid><field name="kind">a</field><description>a</description><group>authentication_failed,</group></rule>
              <rule id="100002" level="3"><if_sid>100000</if_sid><field name="kind">b</field><description>b</description><group>authentication_failed,</group></rule>
              <rule id="100003" level="3"><if_sid>100000</if_sid><field name="kind">c</field><description>c</description></rule>
              <rule id="100010" level="9"><if_group>authentication_failed</if_group><field name="account">root</field><description>root failed</description></rule>
            </group>
            """);
        Assert.Empty(harness.Diagnostics.Items);
        Assert.Equal(100010, harness.RuleOf(Events.Json("""{"app":"demo","kind":"a","account":"root"}""")));
        Assert.Equal(100010, harness.RuleOf(Events.Json("""{"app":"demo","kind":"b","account":"root"}""")));
        Assert.Equal(100003, harness.RuleOf(Events.Json("""{"app":"demo","kind":"c","account":"root"}""")));
    }

    [Fact]
    public void Match_Frequency_FiresOnTheNthEventWithinTimeframeFromOneAgent()
    {
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="5"><if_sid>100000</if_sid><field name="msg">fail</field><description>failure</description></rule>
              <rule id="100002" level="10" frequency="3" timeframe="60"><if_matched_sid>100001</if_matched_sid><description>3 failures</description></rule>
            </group>
            """);
        var line = Events.Json("""{"app":"demo","msg":"fail"}""", "[001] (web) 10.0.0.1->app");
        Assert.Equal(100001, harness.RuleOf(line));
        harness.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(100001, harness.RuleOf(line));
        // Another agent's events do not count for agent 001.
        Assert.Equal(100001, harness.RuleOf(Events.Json("""{"app":"demo","msg":"fail"}""", "[002] (db) 10.0.0.2->app")));
        harness.Clock.Advance(TimeSpan.FromSeconds(10));
        var third = harness.Process(line);
        Assert.Equal(100002, third.Alert!.Rule.Id);
        Assert.Equal(2, third.Alert.PreviousEvents!.Count);
        Assert.Contains("\"frequency\":3", third.AlertJson, StringComparison.Ordinal);
        Assert.Contains("\"previous_output\":", third.AlertJson, StringComparison.Ordinal);

        // The events counted are used up: the next one starts a new count.
        Assert.Equal(100001, harness.RuleOf(line));
    }

    [Fact]
    public void Match_Frequency_EventsOutsideTimeframeDoNotCount()
    {
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="5"><if_sid>100000</if_sid><description>any</description></rule>
              <rule id="100002" level="10" frequency="2" timeframe="30"><if_matched_sid>100001</if_matched_sid><same_field>user</same_field><description>twice by one user</description></rule>
            </group>
            """);
        Assert.Equal(100001, harness.RuleOf(Events.Json("""{"app":"demo","user":"ann"}""")));
        harness.Clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(100001, harness.RuleOf(Events.Json("""{"app":"demo","user":"ann"}""")));
        harness.Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(100001, harness.RuleOf(Events.Json("""{"app":"demo","user":"bob"}""")));
        Assert.Equal(100002, harness.RuleOf(Events.Json("""{"app":"demo","user":"ann"}""")));
    }

    [Fact]
    public void Match_IgnoreWindow_ParentAlertsInstead()
    {
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="5"><if_sid>100000</if_sid><description>parent</description></rule>
              <rule id="100002" level="9" ignore="60"><if_sid>100001</if_sid><field name="msg">x</field><description>child</description></rule>
            </group>
            """);
        var line = Events.Json("""{"app":"demo","msg":"x"}""");
        Assert.Equal(100002, harness.RuleOf(line));
        harness.Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(100001, harness.RuleOf(line));
        harness.Clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(100002, harness.RuleOf(line));
    }

    [Fact]
    public void Description_MissingField_IsReplacedByEmptyText()
    {
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="5"><if_sid>100000</if_sid><description>user=$(user) file=$(nope.missing) ip=$(srcip) end</description></rule>
            </group>
            """);
        var result = harness.Process(Events.Json("""{"app":"demo","user":"ann","srcip":"10.1.1.1"}"""));
        Assert.Equal("user=ann file= ip=10.1.1.1 end", result.Alert!.Description);
    }

    [Fact]
    public void Description_FieldNames_AreCaseInsensitive()
    {
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="5"><if_sid>100000</if_sid><description>$(Nested.Value)</description></rule>
            </group>
            """);
        Assert.Equal("v", harness.Process(Events.Json("""{"app":"demo","nested":{"value":"v"}}""")).Alert!.Description);
    }

    [Fact]
    public void Overwrite_ReplacesRuleButKeepsItsPlaceInTheTree()
    {
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="5"><if_sid>100000</if_sid><description>original</description></rule>
              <rule id="100001" level="2" overwrite="yes"><if_sid>87100</if_sid><description>replaced</description></rule>
            </group>
            """);
        Assert.Empty(harness.Diagnostics.Items);
        var result = harness.Process(Events.Json("""{"app":"demo"}"""));
        Assert.Equal(100001, result.Alert!.Rule.Id);
        Assert.Equal("replaced", result.Alert.Description);
        Assert.Equal(2, result.Alert.Rule.Level);
        Assert.Null(harness.RuleOf(Events.Json("""{"integration":"virustotal"}""")));
    }

    [Fact]
    public void CdbList_MatchKeyValueMatchKeyAndNotMatchKey()
    {
        using var temp = new TempDirectory();
        var list = temp.WriteFile("users", "ann:admin\nbob:user\n");
        using var harness = new RuleHarness(Base + $"""
            <group name="test,">
              <rule id="100001" level="10"><if_sid>100000</if_sid><list field="user" lookup="match_key_value" check_value="^admin">{list}</list><description>admin listed</description></rule>
              <rule id="100002" level="8"><if_sid>100000</if_sid><list field="user" lookup="match_key">{list}</list><description>listed</description></rule>
              <rule id="100003" level="6"><if_sid>100000</if_sid><list field="user" lookup="not_match_key">{list}</list><description>not listed</description></rule>
            </group>
            """, lists: [list]);
        Assert.Empty(harness.Diagnostics.Items);
        Assert.Equal(100001, harness.RuleOf(Events.Json("""{"app":"demo","user":"ann"}""")));
        Assert.Equal(100002, harness.RuleOf(Events.Json("""{"app":"demo","user":"bob"}""")));
        Assert.Equal(100003, harness.RuleOf(Events.Json("""{"app":"demo","user":"eve"}""")));
    }

    [Fact]
    public void CdbList_NotDeclaredInConfiguration_IsAnError()
    {
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="10"><if_sid>100000</if_sid><list field="user" lookup="match_key">etc/lists/nope</list><description>x</description></rule>
            </group>
            """);
        var error = Assert.Single(harness.Diagnostics.Items);
        Assert.Contains("not declared in <ruleset><list>", error.Message, StringComparison.Ordinal);
        Assert.Equal(8, error.Line); // Base takes lines 1-7; the rule is on line 8 of the file.
    }

    [Fact]
    public void Alert_BelowLogAlertLevel_IsNotWrittenButStillTriggersActiveResponse()
    {
        var config = new Vigil.Core.Configuration.OssecConfig
        {
            Alerts = new() { LogAlertLevel = 6 },
            Commands = [new() { Name = "notify", Executable = "notify.sh" }],
            ActiveResponses = [new() { Command = "notify", Location = Vigil.Core.Configuration.ActiveResponseLocations.Local, RulesId = ["100001"] }],
        };
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="4"><if_sid>100000</if_sid><description>low</description></rule>
            </group>
            """, config);
        var result = harness.Process(Events.Json("""{"app":"demo"}""", "[007] (host) 1.2.3.4->app"));
        Assert.False(result.IsWritten);
        var ar = Assert.Single(result.ActiveResponses);
        Assert.Equal("notify0", ar.Name);
        Assert.Equal("007", ar.TargetAgentId);
    }
}
