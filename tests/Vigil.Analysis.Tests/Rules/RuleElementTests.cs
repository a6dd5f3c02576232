using Vigil.Analysis.Alerts;
using Vigil.Analysis.Rules;
using Vigil.Core.Diagnostics;

namespace Vigil.Analysis.Tests.Rules;

public sealed class RuleElementTests
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

    private static RuleHarness Harness(string rule, string? decoders = null)
    {
        var harness = new RuleHarness(Base + "<group name=\"test,\">" + rule + "</group>", decoders: decoders);
        Assert.DoesNotContain(harness.Diagnostics.Items, d => d.Severity == DiagnosticSeverity.Error);
        return harness;
    }

    private static string Event(string msg, string user = "alice") => Events.Json($$"""{"app":"demo","msg":"{{msg}}","user":"{{user}}"}""");

    [Theory]
    [InlineData("6 pm - 8:30 am", "08:30", "18:00", true)]
    [InlineData("!09:00-17:00", "09:00", "17:00", true)]
    [InlineData("10:00 - 11:00", "10:00", "11:00", false)]
    [InlineData("12 am - 12 pm", "00:00", "12:00", false)]
    public void ParseTime_ReadsWazuhsForms(string text, string from, string to, bool isOutside)
    {
        var range = RuleTimes.ParseTime(text);

        Assert.NotNull(range);
        Assert.Equal((from, to, isOutside), range.Value);
    }

    [Theory]
    [InlineData("25:00 - 26:00")]
    [InlineData("10:00")]
    [InlineData("10:00 - 11:00 x")]
    public void ParseTime_Invalid_IsNull(string text) => Assert.Null(RuleTimes.ParseTime(text));

    [Fact]
    public void ParseWeekDays_NamesAndGroups()
    {
        Assert.Equal([false, true, false, false, false, false, true], RuleTimes.ParseWeekDays("monday, sat")!);
        Assert.Equal([false, true, true, true, true, true, false], RuleTimes.ParseWeekDays("weekdays")!);
        Assert.Null(RuleTimes.ParseWeekDays("!monday"));
        Assert.Null(RuleTimes.ParseWeekDays("someday"));
    }

    [Fact]
    public void Time_MatchesInsideTheRangeOnly()
    {
        using var probe = new RuleHarness();
        var local = LocalClock.ToLocal(probe.Clock.GetUtcNow());
        var inside = $"{local.AddMinutes(-5):HH:mm} - {local.AddMinutes(5):HH:mm}";
        var outside = $"!{local.AddMinutes(-5):HH:mm} - {local.AddMinutes(5):HH:mm}";

        using var yes = Harness($"""<rule id="100001" level="5"><if_sid>100000</if_sid><time>{inside}</time><description>t</description></rule>""");
        using var no = Harness($"""<rule id="100001" level="5"><if_sid>100000</if_sid><time>{outside}</time><description>t</description></rule>""");

        Assert.Equal(100001, yes.RuleOf(Event("x")));
        Assert.Null(no.RuleOf(Event("x")));
    }

    [Fact]
    public void Weekday_MatchesOnTheListedDaysOnly()
    {
        using var probe = new RuleHarness();
        var today = LocalClock.ToLocal(probe.Clock.GetUtcNow()).DayOfWeek.ToString().ToLowerInvariant();
        var other = LocalClock.ToLocal(probe.Clock.GetUtcNow()).AddDays(1).DayOfWeek.ToString().ToLowerInvariant();

        using var yes = Harness($"""<rule id="100001" level="5"><if_sid>100000</if_sid><weekday>{today}</weekday><description>d</description></rule>""");
        using var no = Harness($"""<rule id="100001" level="5"><if_sid>100000</if_sid><weekday>{other}</weekday><description>d</description></rule>""");

        Assert.Equal(100001, yes.RuleOf(Event("x")));
        Assert.Null(no.RuleOf(Event("x")));
    }

    [Fact]
    public void CheckDiff_MatchesOnlyWhenTheLogChanges()
    {
        using var harness = Harness("""<rule id="100001" level="7"><if_sid>100000</if_sid><check_diff /><description>changed</description></rule>""");

        Assert.Null(harness.RuleOf(Event("ports 22")));
        Assert.Null(harness.RuleOf(Event("ports 22")));
        Assert.Equal(100001, harness.RuleOf(Event("ports 22 80")));
        Assert.Null(harness.RuleOf(Event("ports 22 80")));
    }

    [Fact]
    public void IgnoreAndCheckIfIgnored_SilenceRepeatsOfTheRecordedValues()
    {
        using var harness = Harness("""
            <rule id="100001" level="7">
              <if_sid>100000</if_sid>
              <field name="msg">^login$</field>
              <ignore>user</ignore>
              <check_if_ignored>user</check_if_ignored>
              <description>first login of $(user)</description>
            </rule>
            """);

        Assert.Equal(100001, harness.RuleOf(Event("login", "alice")));
        Assert.Null(harness.RuleOf(Event("login", "alice")));
        Assert.Equal(100001, harness.RuleOf(Event("login", "bob")));
    }

    [Fact]
    public void IfFts_MatchesTheFirstTimeTheDecodersFtsFieldsAreSeen()
    {
        using var harness = new RuleHarness("""
            <group name="test,">
              <rule id="100010" level="0"><decoded_as>svc</decoded_as><description>svc</description></rule>
              <rule id="100011" level="6"><if_sid>100010</if_sid><if_fts /><description>first time $(user) from $(srcip)</description></rule>
            </group>
            """, decoders: """
            <decoder name="svc">
              <prematch>^svc: </prematch>
              <regex offset="after_prematch">^(\w+) (\S+)</regex>
              <order>user, srcip</order>
              <fts>name, user, srcip</fts>
            </decoder>
            """);
        Assert.DoesNotContain(harness.Diagnostics.Items, d => d.Severity == DiagnosticSeverity.Error);

        Assert.Equal(100011, harness.RuleOf("1:svc.log:svc: alice 10.0.0.1"));
        Assert.Null(harness.RuleOf("1:svc.log:svc: alice 10.0.0.1"));
        Assert.Equal(100011, harness.RuleOf("1:svc.log:svc: alice 10.0.0.2"));
    }

    [Theory]
    [InlineData("<if_matched_regex>x</if_matched_regex>", "<if_matched_regex> is not supported by Vigil")]
    [InlineData("<compiled_rule>is_simple_http_request</compiled_rule>", "<compiled_rule> is not supported by Vigil")]
    [InlineData("<time>morning</time>", "<time> 'morning' is not a time range")]
    [InlineData("<weekday>!monday</weekday>", "<weekday> '!monday' is not a list of days")]
    [InlineData("<ignore>user, </ignore>", "wrong <ignore> option")]
    public void Element_RefusedOrInvalid_IsReportedByName(string element, string expected)
    {
        using var harness = new RuleHarness(Base + $"""<group name="test,"><rule id="100001" level="5"><if_sid>100000</if_sid>{element}<description>x</description></rule></group>""");

        var error = Assert.Single(harness.Diagnostics.Items, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChildOfRefusedRule_SaysItsParentWasLeftOut()
    {
        using var harness = new RuleHarness(Base + """
            <group name="test,">
              <rule id="100001" level="5"><if_sid>100000</if_sid><compiled_rule>f</compiled_rule><description>x</description></rule>
              <rule id="100002" level="6"><if_sid>100001</if_sid><description>y</description></rule>
            </group>
            """);

        var child = Assert.Single(harness.Diagnostics.Items, d => d.Message.StartsWith("rule 100002", StringComparison.Ordinal));
        Assert.Contains("its if_sid 100001 was left out (<compiled_rule> is not supported", child.Message, StringComparison.Ordinal);
    }
}
