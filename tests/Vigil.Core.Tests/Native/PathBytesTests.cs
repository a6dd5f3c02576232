using System.Text;
using Vigil.Core.Native;

namespace Vigil.Core.Tests.Native;

/// <summary>File names are bytes: the text form is exact both ways, and plain UTF-8 names are unchanged.</summary>
public sealed class PathBytesTests
{
    [Theory]
    [InlineData(new byte[] { (byte)'b', (byte)'a', (byte)'d', 0xFF, (byte)'.', (byte)'c' }, "bad\\xff.c")]
    [InlineData(new byte[] { 0xC3, 0xA9 }, "\u00e9")]
    [InlineData(new byte[] { 0xC3 }, "\\xc3")]
    [InlineData(new byte[] { 0xED, 0xB3, 0xBF }, "\\xed\\xb3\\xbf")] // an encoded surrogate is not UTF-8
    [InlineData(new byte[] { (byte)'\\', (byte)'x', (byte)'4', (byte)'1' }, "\\x5cx41")] // a literal "\x41" stays distinct
    [InlineData(new byte[] { (byte)'a', (byte)'\\', (byte)'b' }, "a\\b")]
    [InlineData(new byte[] { (byte)'a', (byte)'\n', (byte)'b' }, "a\nb")]
    public void FromBytes_Name_IsItsTextOrEscaped(byte[] name, string expected)
    {
        Assert.Equal(expected, PathBytes.FromBytes(name));
        Assert.Equal(name, PathBytes.ToBytes(expected));
    }

    [Fact]
    public void RoundTrip_RandomNames_AreExact()
    {
        var random = new Random(13);
        for (var i = 0; i < 20_000; i++)
        {
            var name = new byte[random.Next(1, 256)];
            random.NextBytes(name);
            for (var j = 0; j < name.Length; j++)
            {
                // Bias towards the bytes that matter: backslash, 'x', hex digits, NUL-free.
                name[j] = random.Next(4) switch { 0 => (byte)'\\', 1 => (byte)'x', _ => name[j] == 0 ? (byte)'0' : name[j] };
            }

            var text = PathBytes.FromBytes(name);
            Assert.Equal(name, PathBytes.ToBytes(text));
            Assert.Equal(text, PathBytes.FromBytes(PathBytes.ToBytes(text)));
        }
    }

    [Fact]
    public void ToBytes_PlainText_IsItsUtf8()
    {
        Assert.Equal(Encoding.UTF8.GetBytes("/root/caf\u00e9.txt"), PathBytes.ToBytes("/root/caf\u00e9.txt"));
    }
}
