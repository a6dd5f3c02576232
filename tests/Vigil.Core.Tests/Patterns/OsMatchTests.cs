using Vigil.Core.Patterns;

namespace Vigil.Core.Tests.Patterns;

public sealed class OsMatchTests
{
    private static bool Matches(string pattern, string input, bool negate = false) =>
        Pattern.Compile(pattern, PatternType.OsMatch, negate).IsMatch(input);

    [Theory]
    [InlineData("abc", "abcd")]
    [InlineData("abc", "xxabcxx")]
    [InlineData("a", "aa")]
    [InlineData("lalaila", "lalalalaila")]
    [InlineData("test", "testest")]
    public void IsMatch_Unanchored_MatchesSubstring(string pattern, string input) => Assert.True(Matches(pattern, input));

    [Theory]
    [InlineData("abc", "abb")]
    [InlineData("test", "tes")]
    [InlineData("abbbbbbbb", "abbbbbbb")]
    public void IsMatch_UnanchoredNotContained_DoesNotMatch(string pattern, string input) => Assert.False(Matches(pattern, input));

    [Theory]
    [InlineData("^ab", "abc", true)]
    [InlineData("^ab", " ab", false)]
    [InlineData("^abc ", "abc ", true)]
    public void IsMatch_Caret_IsPrefix(string pattern, string input, bool expected) => Assert.Equal(expected, Matches(pattern, input));

    [Theory]
    [InlineData("c$", "lalalac", true)]
    [InlineData("lala$", "lalalalalal", false)]
    [InlineData("zzzz$", "zzzzzzzz ", false)]
    [InlineData("zzzz$", "zzz", false)]
    public void IsMatch_Dollar_IsSuffix(string pattern, string input, bool expected) => Assert.Equal(expected, Matches(pattern, input));

    [Theory]
    [InlineData("^ab$", "ab", true)]
    [InlineData("^ab$", "abc", false)]
    [InlineData("^ab$", "xab", false)]
    [InlineData("^$", "", true)]
    [InlineData("^$", "event", false)]
    public void IsMatch_BothAnchors_IsEquality(string pattern, string input, bool expected) => Assert.Equal(expected, Matches(pattern, input));

    [Theory]
    [InlineData("Abc", "abc")]
    [InlineData("DANIeL", "daNIel")]
    [InlineData("^A", "a")]
    [InlineData("^whole$", "WHOLE")]
    [InlineData("finish$", "the FINISH")]
    public void IsMatch_DifferentCase_Matches(string pattern, string input) => Assert.True(Matches(pattern, input));

    [Theory]
    [InlineData("abc|cde", "cde", true)]
    [InlineData("^bin$|^shell$|^ftp$", "ftp", true)]
    [InlineData("^bin$|^shell$", "bina", false)]
    [InlineData("^bin$|^shell$", "ashell", false)]
    [InlineData("kwo|fe|fw|^la", "la", true)]
    [InlineData("a|b|c| ", "def", false)]
    public void IsMatch_Alternatives_AnyMatches(string pattern, string input, bool expected) => Assert.Equal(expected, Matches(pattern, input));

    [Theory]
    [InlineData("!test1", "test2", true)]
    [InlineData("!test1", "test1", false)]
    [InlineData("!^debug$|^trace$", "TRACE", false)]
    [InlineData("!^debug$|^trace$", "debug details", true)]
    [InlineData("!debug|trace", "an informational event", true)]
    public void IsMatch_LeadingBang_NegatesWholeExpression(string pattern, string input, bool expected) =>
        Assert.Equal(expected, Matches(pattern, input));

    [Fact]
    public void IsMatch_NegateFlag_InvertsResult()
    {
        Assert.False(Matches("abc", "abc", negate: true));
        Assert.True(Matches("abc", "xyz", negate: true));
    }

    [Fact]
    public void IsMatch_NegateFlagAndBang_CancelOut()
    {
        var pattern = Pattern.Compile("!abc", PatternType.OsMatch, negate: true);

        Assert.False(pattern.IsNegated);
        Assert.True(pattern.IsMatch("xabc"));
        Assert.False(pattern.IsMatch("xyz"));
    }

    [Theory]
    [InlineData("^a.b$", "a.b")]
    [InlineData("^a+b$", "a+b")]
    [InlineData("^a*b$", "a*b")]
    [InlineData("^a\\db$", "a\\db")]
    [InlineData("^a(b)$", "a(b)")]
    [InlineData("^a[b]$", "a[b]")]
    [InlineData("^a!b$", "A!B")]
    [InlineData("^a^b$", "a^b")]
    [InlineData("^a$b$", "a$b")]
    public void IsMatch_RegexMetacharacters_AreLiteral(string pattern, string input) => Assert.True(Matches(pattern, input));

    [Fact]
    public void IsMatch_DoubleCaret_RemovesOnlyOneAnchor()
    {
        Assert.True(Matches("^^event", "^event log"));
        Assert.False(Matches("^^event", "event log"));
    }

    [Theory]
    [InlineData("^", "event", true)]
    [InlineData("$", "event", true)]
    [InlineData("", "anything", true)]
    public void IsMatch_EmptyAlternative_MatchesAnything(string pattern, string input, bool expected) =>
        Assert.Equal(expected, Matches(pattern, input));

    [Theory]
    [InlineData("needle|^head|tail$", "a NEEDLE in hay", true)]
    [InlineData("needle|^head|tail$", "Héad with needle", true)]
    [InlineData("needle|^head|tail$", "HEAD é", true)]
    [InlineData("needle|^head|tail$", "é TAIL", true)]
    [InlineData("needle|^head|tail$", "néedle", false)]
    [InlineData("é|x", "É", true)]
    [InlineData("^é$", "É", true)]
    [InlineData("needle|", "", true)]
    [InlineData("nee|dle", "NE", false)]
    public void IsMatch_AsciiOrNotInput_FoldsAsOrdinalIgnoreCase(string pattern, string input, bool expected) =>
        Assert.Equal(expected, Matches(pattern, input));

    [Fact]
    public void Compile_OsMatch_KeepsTextAndType()
    {
        var pattern = Pattern.Compile("!^abc", PatternType.OsMatch);

        Assert.Equal("!^abc", pattern.Text);
        Assert.Equal(PatternType.OsMatch, pattern.Type);
        Assert.True(pattern.IsNegated);
    }

    [Fact]
    public void TryMatch_OsMatch_ReturnsNoCaptures()
    {
        var pattern = Pattern.Compile("abc", PatternType.OsMatch);

        Assert.True(pattern.TryMatch("xabcx", out var captures));
        Assert.Empty(captures);
    }

    [Fact]
    public void IsMatch_OsMatch_DoesNotAllocate()
    {
        var pattern = Pattern.Compile("foo|^bar|baz$|^qux$|Needle", PatternType.OsMatch);
        const string Input = "a long line of log text with a NEEDLE inside it";
        pattern.IsMatch(Input);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            pattern.IsMatch(Input);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Theory]
    [InlineData("osmatch", PatternType.OsMatch)]
    [InlineData("sregex", PatternType.OsMatch)]
    [InlineData("OSMatch", PatternType.OsMatch)]
    [InlineData("osregex", PatternType.OsRegex)]
    [InlineData("OSREGEX", PatternType.OsRegex)]
    [InlineData("pcre2", PatternType.Pcre2)]
    [InlineData("PCRE2", PatternType.Pcre2)]
    public void TryParseType_KnownName_ReturnsType(string attribute, PatternType expected)
    {
        Assert.True(Pattern.TryParseType(attribute, out var type));
        Assert.Equal(expected, type);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("regex")]
    [InlineData("pcre")]
    public void TryParseType_UnknownName_ReturnsFalse(string? attribute) => Assert.False(Pattern.TryParseType(attribute, out _));
}
