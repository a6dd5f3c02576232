using Vigil.Fim.Scanning;

namespace Vigil.Fim.Tests.Scanning;

public sealed class OsMatchPatternTests
{
    [Theory]
    [InlineData(".log$|.swp$", "/var/x.LOG", true)]
    [InlineData(".log$|.swp$", "/var/x.log.1", false)]
    [InlineData("^/etc/", "/etc/passwd", true)]
    [InlineData("^/etc/", "/usr/etc/passwd", false)]
    [InlineData("^/etc/hosts$", "/etc/hosts", true)]
    [InlineData("tmp", "/var/TMP/x", true)]
    [InlineData("!.conf$", "/etc/a.conf", false)]
    [InlineData("!.conf$", "/etc/a.txt", true)]
    public void IsMatch_Expression_MatchesLikeOsMatch(string expression, string path, bool expected)
    {
        Assert.Equal(expected, OsMatchPattern.Create(expression).IsMatch(path));
    }
}
