using Vigil.Core.Patterns;

namespace Vigil.Core.Tests.Patterns;

public sealed class OsRegexTests
{
    private static bool Matches(string pattern, string input, bool negate = false) =>
        Pattern.Compile(pattern, PatternType.OsRegex, negate).IsMatch(input);

    private static string ErrorOf(string pattern)
    {
        Assert.False(Pattern.TryCompile(pattern, PatternType.OsRegex, false, out var compiled, out var error));
        Assert.Null(compiled);
        return error;
    }

    [Theory]
    [InlineData("\\d", "7", "a")]
    [InlineData("\\D", "a", "7")]
    [InlineData("\\w", "a", ".")]
    [InlineData("\\w", "Z", "+")]
    [InlineData("\\w", "5", " ")]
    [InlineData("\\w", "-", "/")]
    [InlineData("\\w", "@", "#")]
    [InlineData("\\w", "_", "é")]
    [InlineData("\\W", "+", "_")]
    [InlineData("\\W", ".", "a")]
    [InlineData("\\s", " ", "\t")]
    [InlineData("\\s", " ", "\n")]
    [InlineData("\\S", "\t", " ")]
    [InlineData("\\S", "x", " ")]
    [InlineData("\\t", "\t", " ")]
    [InlineData("\\p", "#", "a")]
    [InlineData("\\p", "!", "\\")]
    [InlineData("\\p", "}", "/")]
    [InlineData("\\p", "|", "^")]
    [InlineData("\\p", "?", "_")]
    [InlineData("\\p", "[", "~")]
    [InlineData("\\.", "x", "")]
    [InlineData("\\.", "\n", "")]
    [InlineData("\\.", ".", "")]
    public void IsMatch_Class_MatchesMembersOnly(string token, string member, string nonMember)
    {
        Assert.True(Matches($"^{token}$", member));
        Assert.False(Matches($"^{token}$", nonMember));
    }

    [Theory]
    [InlineData('!')]
    [InlineData('"')]
    [InlineData('#')]
    [InlineData('$')]
    [InlineData('%')]
    [InlineData('&')]
    [InlineData('\'')]
    [InlineData('(')]
    [InlineData(')')]
    [InlineData('*')]
    [InlineData('+')]
    [InlineData(',')]
    [InlineData('-')]
    [InlineData('.')]
    [InlineData(':')]
    [InlineData(';')]
    [InlineData('<')]
    [InlineData('=')]
    [InlineData('>')]
    [InlineData('?')]
    [InlineData('[')]
    [InlineData(']')]
    [InlineData('{')]
    [InlineData('|')]
    [InlineData('}')]
    public void IsMatch_PunctuationClass_MatchesEachDocumentedCharacter(char c) => Assert.True(Matches("^\\p$", c.ToString()));

    [Fact]
    public void IsMatch_PlainDot_IsLiteral()
    {
        Assert.True(Matches("^file.log$", "file.log"));
        Assert.False(Matches("^file.log$", "fileXlog"));
        Assert.True(Matches("^file\\.log$", "fileXlog"));
        Assert.False(Matches("^file\\.log$", "filelog"));
    }

    [Theory]
    [InlineData("?")]
    [InlineData("[")]
    [InlineData("]")]
    [InlineData("{")]
    [InlineData("}")]
    [InlineData("#")]
    [InlineData(" ")]
    [InlineData("/")]
    [InlineData("!")]
    public void IsMatch_PcreOnlyMetacharacter_IsLiteral(string c)
    {
        Assert.True(Matches("^a" + c + "b$", "a" + c + "b"));
        Assert.False(Matches("^a" + c + "b$", "ab"));
    }

    [Fact]
    public void IsMatch_BracketsAreNotASet() => Assert.True(Matches("^sshd[\\d+]: Accepted", "sshd[21405]: Accepted password"));

    [Theory]
    [InlineData("Abc", "abc")]
    [InlineData("DANIeL", "daNIel")]
    [InlineData("^error$", "ERROR")]
    [InlineData("^\\w+ Failed$", "root FAILED")]
    public void IsMatch_DifferentCase_Matches(string pattern, string input) => Assert.True(Matches(pattern, input));

    [Fact]
    public void IsMatch_NonAsciiLetters_AreNotCaseFolded() => Assert.False(Matches("^é$", "É"));

    [Theory]
    [InlineData("abc", "xxabcxx", true)]
    [InlineData("abc", "abb", false)]
    [InlineData("test", "tes", false)]
    [InlineData("", "", true)]
    [InlineData("", "a", true)]
    [InlineData("lalaila", "lalalalaila", true)]
    public void IsMatch_Unanchored_MatchesSubstring(string pattern, string input, bool expected) =>
        Assert.Equal(expected, Matches(pattern, input));

    [Theory]
    [InlineData("1", "10")]
    [InlineData("1", "21")]
    [InlineData("ossec", "wazuh-ossec-test")]
    public void IsMatch_FieldDefaultOsRegex_IsSubstringNotEquality(string pattern, string value) => Assert.True(Matches(pattern, value));

    [Theory]
    [InlineData("^ab", "abc", true)]
    [InlineData("^ab", " ab", false)]
    [InlineData("c$", "lalac", true)]
    [InlineData("lala$", "lalal", false)]
    [InlineData("^ab$", "ab", true)]
    [InlineData("^ab$", "abc", false)]
    [InlineData("^$", "", true)]
    [InlineData("^$", "a", false)]
    [InlineData("^", "", true)]
    [InlineData("^", "event", true)]
    [InlineData("$", "", true)]
    [InlineData("$", "a", false)]
    [InlineData("zzzz$", "zzzzzz ", false)]
    [InlineData("abc$", "abc\n", false)]
    public void IsMatch_Anchors_BindToTextStartAndEnd(string pattern, string input, bool expected) =>
        Assert.Equal(expected, Matches(pattern, input));

    [Theory]
    [InlineData("abc|cde", "cde", true)]
    [InlineData("^aa|ee|ii|oo|uu", "dfgdsii", true)]
    [InlineData("^bin$|^shell$", "shell", true)]
    [InlineData("^bin$|^shell$", "bina", false)]
    [InlineData("^bin$|^shell$", "ashell", false)]
    [InlineData("^root$|^admin$", "ADMIN", true)]
    [InlineData("a|b|c| ", "def", false)]
    public void IsMatch_Alternation_EachAlternativeKeepsItsAnchors(string pattern, string input, bool expected) =>
        Assert.Equal(expected, Matches(pattern, input));

    [Theory]
    [InlineData("\\s+123", "  123", true)]
    [InlineData("\\s*123", "123", true)]
    [InlineData("^\\d+$", "012345", true)]
    [InlineData("^\\d+$", "", false)]
    [InlineData("^\\d*$", "", true)]
    [InlineData("^\\d+$", "012a45", false)]
    [InlineData("^\\w*$", "user-name_1@example", true)]
    [InlineData("^\\w*$", "user.name", false)]
    [InlineData("^\\t+$", "\t\t", true)]
    [InlineData("^\\.*$", "any thing\n", true)]
    [InlineData("\\w+\\s+\\w+\\d+\\s$", "a aa11 ", true)]
    [InlineData("\\w+\\s+\\w+\\d+\\s$", "a aa11  ", false)]
    [InlineData("^\\s+\\sl", "     lala", true)]
    [InlineData("^\\s*\\s lal\\w$", "  lala", true)]
    [InlineData("test123test\\d+", "test123test", false)]
    [InlineData("^su\\S*: BAD su", "su: BAD SU dcid to root", true)]
    [InlineData("^\\D+123", "te5st123", false)]
    [InlineData("^\\W+abc", " \t abc", true)]
    public void IsMatch_Quantifiers_RepeatTheClassBeforeThem(string pattern, string input, bool expected) =>
        Assert.Equal(expected, Matches(pattern, input));

    [Fact]
    public void IsMatch_RealDecoderExpression_Matches() =>
        Assert.True(Matches(
            "^kernel: \\S+ \\.+ SRC=\\S+ DST=\\S+ \\.+ PROTO=\\w+ SPT=\\d+ DPT=\\d+ ",
            "kernel: IPTABLE IN=eth0 OUT= MAC=ff:ff SRC=10.4.11.40 DST=255.255.255.255 LEN=180 PROTO=UDP SPT=49320 DPT=2222 LEN=160"));

    [Theory]
    [InlineData("^abc\\$d$", "abc$d")]
    [InlineData("^abc\\|d$", "abc|d")]
    [InlineData("^abc\\<d$", "abc<d")]
    [InlineData("^\\\\ \\w$", "\\ a")]
    [InlineData("^\\($", "(")]
    [InlineData("^\\)$", ")")]
    public void IsMatch_Escapes_MatchTheLiteralCharacter(string pattern, string input) => Assert.True(Matches(pattern, input));

    [Fact]
    public void IsMatch_EscapedPipe_IsNotAlternation()
    {
        Assert.True(Matches("^(left\\|right)$", "left|right"));
        Assert.False(Matches("^left\\|right$", "left"));
    }

    [Fact]
    public void IsMatch_BangPrefix_IsLiteralInOsRegex()
    {
        Assert.True(Matches("!abc", "x!abc"));
        Assert.False(Matches("!abc", "abc"));
    }

    [Fact]
    public void IsMatch_Negated_InvertsResult()
    {
        var pattern = Pattern.Compile("^\\d+$", PatternType.OsRegex, negate: true);

        Assert.True(pattern.IsNegated);
        Assert.False(pattern.IsMatch("123"));
        Assert.True(pattern.IsMatch("12a"));
    }

    [Theory]
    [InlineData("test (\\w+)la", "test abclala", new[] { "abc" })]
    [InlineData("(\\w+) (\\w+)", "wofl wofl", new[] { "wofl", "wofl" })]
    [InlineData("123(\\w+\\s+)abc", "abc123sdf    abc", new[] { "sdf    " })]
    [InlineData("123 (\\d+.\\d.\\d.\\d\\d*\\d*)", "123 45.6.5.567", new[] { "45.6.5.567" })]
    [InlineData("^sshd[\\d+]: Accepted \\S+ for (\\S+) from (\\S+) port ", "sshd[21405]: Accepted password for root from 192.1.1.1 port 6023", new[] { "root", "192.1.1.1" })]
    [InlineData(": \\((\\S+)@(\\S+)\\) [", "pure-ftpd: (?@enigma.lab) [INFO] x", new[] { "?", "enigma.lab" })]
    [InlineData("^x(\\d+)$|^y(\\w+)$", "yabc", new[] { "abc" })]
    public void TryMatch_Groups_ReturnsCapturesInOrder(string pattern, string input, string[] expected)
    {
        var compiled = Pattern.Compile(pattern, PatternType.OsRegex);

        Assert.True(compiled.TryMatch(input, out var captures));
        Assert.Equal(expected, captures);
    }

    [Fact]
    public void TryMatch_NoMatch_ReturnsFalseAndNoCaptures()
    {
        var compiled = Pattern.Compile("test123(\\d)", PatternType.OsRegex);

        Assert.False(compiled.TryMatch("test123a", out var captures));
        Assert.Empty(captures);
    }

    [Fact]
    public void TryMatch_Negated_ReturnsNoCaptures()
    {
        var compiled = Pattern.Compile("(\\d+)", PatternType.OsRegex, negate: true);

        Assert.True(compiled.TryMatch("abc", out var captures));
        Assert.Empty(captures);
        Assert.False(compiled.TryMatch("a1", out captures));
        Assert.Empty(captures);
    }

    [Theory]
    [InlineData("\\q+", "invalid OSRegex '\\q+': unknown escape '\\q' at offset 0")]
    [InlineData("ab\\*d", "invalid OSRegex 'ab\\*d': unknown escape '\\*' at offset 2")]
    [InlineData("^\\^x", "invalid OSRegex '^\\^x': unknown escape '\\^' at offset 1")]
    [InlineData("\\b", "invalid OSRegex '\\b': unknown escape '\\b' at offset 0")]
    [InlineData("\\x41", "invalid OSRegex '\\x41': unknown escape '\\x' at offset 0")]
    [InlineData("\\.", null)]
    [InlineData("abc\\", "invalid OSRegex 'abc\\': trailing backslash at offset 3")]
    [InlineData("(lalala", "invalid OSRegex '(lalala': unclosed group opened at offset 0")]
    [InlineData("\\(test)", "invalid OSRegex '\\(test)': unbalanced ')' at offset 6")]
    [InlineData("abc)", "invalid OSRegex 'abc)': unbalanced ')' at offset 3")]
    [InlineData("((a))", "invalid OSRegex '((a))': nested group at offset 1 (group already open at offset 0)")]
    [InlineData("(foo|bar)", "invalid OSRegex '(foo|bar)': '|' at offset 4 inside the group opened at offset 0 (alternation cannot be grouped)")]
    public void TryCompile_InvalidPattern_ExplainsWhatAndWhere(string pattern, string? expected)
    {
        if (expected is null)
        {
            Assert.True(Pattern.TryCompile(pattern, PatternType.OsRegex, false, out _, out _));
            return;
        }

        Assert.Equal(expected, ErrorOf(pattern));
    }

    [Fact]
    public void Compile_InvalidPattern_ThrowsPatternException()
    {
        var ex = Assert.Throws<PatternException>(() => Pattern.Compile("\\q+", PatternType.OsRegex));

        Assert.Equal("invalid OSRegex '\\q+': unknown escape '\\q' at offset 0", ex.Message);
        Assert.IsAssignableFrom<VigilException>(ex);
    }

    // Patterns Wazuh's compiler accepts although they look wrong: a quantifier after a literal, or an anchor that is
    // not at an end, is a literal character. The expected results are those of Wazuh's engine for the same input.
    [Theory]
    [InlineData("a+", "xa+y", true)]
    [InlineData("a+", "aa", false)]
    [InlineData("a^b", "a^b", true)]
    [InlineData("a$b", "a$b", true)]
    [InlineData("(a$)", "a$", true)]
    [InlineData("\\d++", "1+", true)]
    [InlineData("+abc", "+abc", true)]
    [InlineData("^*", "*x", true)]
    [InlineData("(\\d)*", "1*", true)]
    [InlineData("\\d+^\\d\\d\\d", "12^345", true)]
    [InlineData("\\d+^\\d\\d\\d", "12345", false)]
    [InlineData("\\d+$\\d\\d\\d", "1$234", true)]
    [InlineData("^+ \\S+", "+ abc", true)]
    [InlineData("^+ \\S+", "x+ abc", false)]
    public void IsMatch_OddButValidPattern_TakesTheCharacterLiterally(string pattern, string input, bool expected) =>
        Assert.Equal(expected, Matches(pattern, input));

    // Where Wazuh's engine, which does not backtrack like a general regex engine, gives up on a match that exists.
    [Theory]
    [InlineData("^(\\d*)(\\s)(\\w+)$", " user", false)]
    [InlineData("()", "abc", false)]
    [InlineData("()", "", false)]
    [InlineData("(\\w*)", "", true)]
    [InlineData("(\\d*)x", "x", true)]
    [InlineData("\\p*\\d*\\s*\\w*:", ":", false)]
    [InlineData("a|b|c| ", "d f", true)]
    [InlineData("a|b|c| ", "def", false)]
    public void IsMatch_GreedyEngineCornerCase_MatchesAsWazuh(string pattern, string input, bool expected) =>
        Assert.Equal(expected, Matches(pattern, input));

    [Fact]
    public void IsMatch_LongAlternationWithManyGroups_CompilesAndMatches()
    {
        // 22 groups in a 4,000-character alternation once stopped the whole rule set from loading.
        var alternatives = Enumerable.Range(0, 22).Select(i => $"^event{i:D2} (\\w+) " + new string('x', 160) + $" (\\d+)$");
        var text = string.Join('|', alternatives);
        Assert.True(text.Length > 4000);

        var pattern = Pattern.Compile(text, PatternType.OsRegex);

        Assert.True(pattern.TryMatch("event21 user " + new string('x', 160) + " 42", out var captures));
        Assert.Equal(["user", "42"], captures);
        Assert.False(pattern.IsMatch("event22 user"));
    }

    [Fact]
    public void MatchEnd_ReturnsWhereTheTextAfterTheMatchBegins()
    {
        var pattern = Pattern.Compile("^sshd: ", PatternType.OsRegex);

        Assert.Equal(6, pattern.MatchEnd("sshd: Accepted", 0, null));
        Assert.Equal(-1, pattern.MatchEnd("xsshd: Accepted", 0, null));
        Assert.Equal(9, Pattern.Compile("(\\d+) ", PatternType.OsRegex).MatchEnd("pid 1234 x", 4, null));
    }

    [Fact]
    public void IsMatch_ManyStarsOnLongInput_ReturnsQuickly()
    {
        var pattern = Pattern.Compile("^\\w*\\w*\\w*\\w*\\w*\\w*\\w*\\w*x$", PatternType.OsRegex);
        var input = new string('a', 20_000);

        Assert.False(pattern.IsMatch(input));
    }

    [Fact]
    public void Compile_EveryPrintableLiteral_MatchesItself()
    {
        // Every ASCII character that is not an OSRegex metacharacter is a literal; "\_" once broke the translation.
        foreach (var c in Enumerable.Range(0x20, 0x5f).Select(i => (char)i).Where(c => "\\^$|()+*".IndexOf(c) < 0))
        {
            var text = $"^80{c}x$";
            Assert.True(Pattern.TryCompile(text, PatternType.OsRegex, false, out var pattern, out var error), $"{text}: {error}");
            Assert.True(pattern.IsMatch($"80{c}X"), text);
        }
    }
}
