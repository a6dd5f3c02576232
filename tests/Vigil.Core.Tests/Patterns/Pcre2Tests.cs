using Vigil.Core.Patterns;

namespace Vigil.Core.Tests.Patterns;

public sealed class Pcre2Tests
{
    private static bool Matches(string pattern, string input, bool negate = false) =>
        Pattern.Compile(pattern, PatternType.Pcre2, negate).IsMatch(input);

    [Fact]
    public void IsMatch_DifferentCase_DoesNotMatch()
    {
        Assert.True(Matches("^POST$", "POST"));
        Assert.False(Matches("^POST$", "post"));
    }

    [Fact]
    public void IsMatch_InlineCaseInsensitiveModifier_Matches() => Assert.True(Matches("(?i)^POST|GET$", "post"));

    [Theory]
    [InlineData("r.t", "rat", true)]
    [InlineData("^.$", "\n", false)]
    [InlineData("https?://", "http://x", true)]
    [InlineData("\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}", "ip 10.0.0.1", true)]
    [InlineData("\\d{4}", "123", false)]
    [InlineData("[A-Z]+-\\d+", "ticket ABC-12", true)]
    [InlineData("(?<=user=)\\w+", "user=alice", true)]
    [InlineData("(a)\\1", "aa", true)]
    [InlineData("^abc$", "xabc", false)]
    [InlineData("abc", "xabcx", true)]
    public void IsMatch_PerlSyntax_BehavesAsPcre(string pattern, string input, bool expected) =>
        Assert.Equal(expected, Matches(pattern, input));

    [Fact]
    public void IsMatch_Negated_InvertsResult()
    {
        Assert.False(Matches("abc", "abc", negate: true));
        Assert.True(Matches("abc", "ABC", negate: true));
    }

    [Fact]
    public void TryMatch_Groups_ReturnsParticipatingCaptures()
    {
        var pattern = Pattern.Compile("from=<(.*?@(.*?))>", PatternType.Pcre2);

        Assert.True(pattern.TryMatch("x from=<bob@example.org>, size=9", out var captures));
        Assert.Equal(["bob@example.org", "example.org"], captures);
    }

    [Fact]
    public void TryMatch_OptionalGroupNotTaken_IsLeftOut()
    {
        var pattern = Pattern.Compile("(https?)(://)(www\\.)?", PatternType.Pcre2);

        Assert.True(pattern.TryMatch("http://example.com", out var captures));
        Assert.Equal(["http", "://"], captures);
    }

    [Fact]
    public void TryMatch_Negated_ReturnsNoCaptures()
    {
        var pattern = Pattern.Compile("(\\d+)", PatternType.Pcre2, negate: true);

        Assert.False(pattern.TryMatch("id 42", out var captures));
        Assert.Empty(captures);
    }

    [Theory]
    [InlineData("(abc", "invalid PCRE2 '(abc': insufficient closing parentheses at offset 4")]
    [InlineData("abc)", "invalid PCRE2 'abc)': insufficient opening parentheses at offset 4")]
    [InlineData("[abc", "invalid PCRE2 '[abc': unterminated bracket at offset 4")]
    [InlineData("*a", "invalid PCRE2 '*a': quantifier after nothing at offset 1")]
    public void TryCompile_InvalidPattern_ExplainsWhatAndWhere(string pattern, string expected)
    {
        Assert.False(Pattern.TryCompile(pattern, PatternType.Pcre2, false, out var compiled, out var error));
        Assert.Null(compiled);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void Compile_InvalidPattern_ThrowsPatternException()
    {
        var ex = Assert.Throws<PatternException>(() => Pattern.Compile("(abc", PatternType.Pcre2));

        Assert.StartsWith("invalid PCRE2 '(abc': ", ex.Message);
    }

    [Fact]
    public void IsMatch_CatastrophicBacktracking_TimesOutAsNoMatch()
    {
        var input = new string('a', 40) + "!";

        Assert.False(Pattern.Compile("^(\\w+\\s?)*$", PatternType.Pcre2).IsMatch(input));
        Assert.True(Pattern.Compile("^(\\w+\\s?)*$", PatternType.Pcre2, negate: true).IsMatch(input));
    }

    [Theory]
    [InlineData("(*UTF)\\N{U+202E}", "invoice\u202Efdp.exe", true)]
    [InlineData("(*UTF)(*UCP)^a\\x{e9}$", "a\u00e9", true)]
    [InlineData("\\x{41}B", "xAB", true)]
    [InlineData("(*UTF)\\x{1F600}", "smile \U0001F600", true)]
    [InlineData("(?P<user>\\w+)=(?P=user)", "ab=ab", true)]
    [InlineData("\\Qa.b\\E", "axb", false)]
    [InlineData("\\Qa.b\\E", "a.b", true)]
    [InlineData("^a\\hb$", "a b", true)]
    public void IsMatch_Pcre2OnlySyntax_IsRead(string pattern, string input, bool expected)
    {
        Assert.True(Pattern.TryCompile(pattern, PatternType.Pcre2, false, out var compiled, out var error), error);
        Assert.Equal(expected, compiled.IsMatch(input));
    }

    [Fact]
    public void Compile_PatternNeedingBacktracking_SaysItRunsWithATimeout()
    {
        Assert.Null(Pattern.Compile("^[a-z]+\\d{2}$", PatternType.Pcre2).EngineNote);

        var note = Pattern.Compile("(a)\\1(?=b)", PatternType.Pcre2).EngineNote;

        Assert.NotNull(note);
        Assert.Contains("backtracking engine with a 100 ms match timeout", note, StringComparison.Ordinal);
    }

    [Fact]
    public void MatchEnd_ReturnsTheEndOfTheMatch() =>
        Assert.Equal(8, Pattern.Compile("\\d+ ", PatternType.Pcre2).MatchEnd("pid 123 rest", 0, null));
}
