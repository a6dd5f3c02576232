using Vigil.Fim.Events;

namespace Vigil.Fim.Tests.Events;

public sealed class LineDiffTests
{
    [Theory]
    [InlineData("a\nb\nc\n", "a\nx\nc\n", "2c2\n< b\n---\n> x")]
    [InlineData("a\nb\n", "a\nb\nc\nd\n", "2a3,4\n> c\n> d")]
    [InlineData("a\nb\nc\n", "c\n", "1,2d0\n< a\n< b")]
    [InlineData("", "new\n", "0a1\n> new")]
    [InlineData("a\nb\nc\nd\ne\n", "a\nB\nc\nd\nE\nf\n", "2c2\n< b\n---\n> B\n5c5,6\n< e\n---\n> E\n> f")]
    public void Compute_TwoTexts_PrintsNormalFormat(string before, string after, string expected)
    {
        Assert.Equal(expected, LineDiff.Compute(LineDiff.SplitLines(before), LineDiff.SplitLines(after)));
    }

    [Fact]
    public void Compute_SameText_IsEmpty()
    {
        Assert.Equal("", LineDiff.Compute(["a"], ["a"]));
    }
}
