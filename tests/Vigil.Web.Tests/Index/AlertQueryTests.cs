using Vigil.Web.Index;

namespace Vigil.Web.Tests.Index;

public sealed class AlertQueryTests
{
    [Fact]
    public void Parse_SeedFilterVerbatim_IsOneFieldMatchWithFourValues()
    {
        var query = AlertQuery.Parse("rule.id: is one of 553,100092,87105,100201");
        var match = Assert.IsType<AlertQuery.FieldMatch>(query);
        Assert.Equal("rule.id", match.Field);
        Assert.Equal(["553", "100092", "87105", "100201"], match.Values);
    }

    [Fact]
    public void Parse_ListWithSpacesAndBooleanTail_KeepsTheListApart()
    {
        var query = AlertQuery.Parse("rule.id: is one of 553, 100092 and agent.id: 002");
        var and = Assert.IsType<AlertQuery.And>(query);
        Assert.Equal(["553", "100092"], Assert.IsType<AlertQuery.FieldMatch>(and.Left).Values);
        Assert.Equal(["002"], Assert.IsType<AlertQuery.FieldMatch>(and.Right).Values);
    }

    [Fact]
    public void Parse_Precedence_AndBindsTighterThanOr_NotTightest()
    {
        var query = AlertQuery.Parse("a: 1 OR b: 2 AND NOT c: 3");
        var or = Assert.IsType<AlertQuery.Or>(query);
        Assert.IsType<AlertQuery.FieldMatch>(or.Left);
        var and = Assert.IsType<AlertQuery.And>(or.Right);
        Assert.IsType<AlertQuery.Not>(and.Right);
    }

    [Theory]
    [InlineData("rule.id: is 100201", "rule.id", "100201")]
    [InlineData("data.virustotal.source.file: \"/root/eicar.com\"", "data.virustotal.source.file", "/root/eicar.com")]
    [InlineData("syscheck.path: /root/*", "syscheck.path", "/root/*")]
    public void Parse_FieldValue(string text, string field, string value)
    {
        var match = Assert.IsType<AlertQuery.FieldMatch>(AlertQuery.Parse(text));
        Assert.Equal(field, match.Field);
        Assert.Equal([value], match.Values);
    }

    [Fact]
    public void Parse_TimesKeepTheirColons()
    {
        var range = Assert.IsType<AlertQuery.FieldRange>(AlertQuery.Parse("timestamp >= 2026-11-28T10:00:00Z"));
        Assert.Equal("2026-11-28T10:00:00Z", range.Value);
        Assert.Equal(">=", range.Operator);
    }

    [Fact]
    public void Parse_ParenthesisedValueList_AndExistsAndFreeText()
    {
        Assert.Equal(["553", "100092"], Assert.IsType<AlertQuery.FieldMatch>(AlertQuery.Parse("rule.id: (553 or 100092)")).Values);
        Assert.IsType<AlertQuery.FieldExists>(AlertQuery.Parse("data.virustotal: *"));
        Assert.Equal("removed threat", Assert.IsType<AlertQuery.FreeText>(AlertQuery.Parse("\"removed threat\"")).Text);
        Assert.Same(AlertQuery.All, AlertQuery.Parse("   "));
    }

    [Theory]
    [InlineData("(rule.id: 5", "')' expected")]
    [InlineData("rule.id: 5)", "unbalanced ')'")]
    [InlineData("rule.description: \"open", "quote at position 19 is not closed")]
    [InlineData("rule.id:", "needs a value")]
    [InlineData("AND rule.id: 5", "needs a term before it")]
    [InlineData("rule.id: is one of", "needs a comma-separated list")]
    [InlineData("ru$le: 5", "is not a field name")]
    [InlineData("rule.level >=", "needs a value")]
    public void Parse_Malformed_ThrowsQueryExceptionSayingWhat(string text, string expected)
    {
        var error = Assert.Throws<QueryException>(() => AlertQuery.Parse(text));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.InRange(error.Position, 0, text.Length);
    }
}
