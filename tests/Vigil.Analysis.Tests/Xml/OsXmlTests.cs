using Vigil.Analysis.Xml;

namespace Vigil.Analysis.Tests.Xml;

public sealed class OsXmlTests
{
    private static string TextOf(string xml, string element) =>
        OsXml.Parse(xml).Descendants(element).Single().Value;

    [Theory]
    [InlineData("<match>a&b</match>", "a&b")]
    [InlineData("<match>&lt;script</match>", "&lt;script")]
    [InlineData("<regex>^abc\\<d</regex>", "^abc\\<d")]
    [InlineData("<match>a|b|c| </match>", "a|b|c| ")]
    [InlineData("<match>  spaced  </match>", "  spaced  ")]
    [InlineData("<match>ab<!-- note -->cd</match>", "abcd")]
    [InlineData("<match>ab<! wazuh comment !>cd</match>", "abcd")]
    [InlineData("<match>a>b</match>", "a>b")]
    [InlineData("<match>x\\\\</match>", "x\\\\")]
    public void Parse_Text_IsKeptExactlyAsWritten(string xml, string expected) =>
        Assert.Equal(expected, OsXml.Parse(xml).Elements().Single().Value);

    [Fact]
    public void Parse_MultiLineText_KeepsNewlinesAndIndentation() =>
        Assert.Equal("a|b\n      |c", TextOf("<field name=\"x\">a|b\n      |c</field>", "field"));

    [Fact]
    public void Parse_SeveralRootsAndTextOutside_AreRead()
    {
        var root = OsXml.Parse("junk <var name=\"A\">1</var>\n<group name=\"g,\"><rule id=\"1\" level=\"0\"/></group> tail");

        Assert.Equal(["var", "group"], root.Elements().Select(e => e.Name.LocalName));
        Assert.Equal("1", root.Element("group")!.Element("rule")!.Attribute("id")!.Value);
        Assert.Equal(2, OsXml.LineOf(root.Element("group")!));
    }

    [Fact]
    public void Parse_AttributeWithSingleQuotesAndAmpersand_IsRead() =>
        Assert.Equal("a&b", OsXml.Parse("<list field='x' lookup=\"a&b\">p</list>").Element("list")!.Attribute("lookup")!.Value);

    [Theory]
    [InlineData("<group>\n<rule>\n</group>", 3, "element <rule> (line 2) is not closed: found </group>")]
    [InlineData("<group>\n<rule>x</rule>\n", 3, "end of file and element <group> (line 1) is not closed")]
    [InlineData("<group>\n<!-- open\n", 2, "comment is not closed")]
    [InlineData("</group>", 1, "closing tag with no element open")]
    [InlineData("<rule id=\"1\" id=\"2\"></rule>", 1, "attribute 'id' is defined twice")]
    [InlineData("<rule id=1></rule>", 1, "attribute 'id' is not followed by a \" or '")]
    [InlineData("<rule id></rule>", 1, "attribute 'id' has no value")]
    [InlineData("<rule id=\"1\"x=\"2\"></rule>", 1, "bad attribute closing for 'id'='1'")]
    public void Parse_RealMistake_ReportsItsLine(string xml, int line, string message)
    {
        var ex = Assert.Throws<OsXmlException>(() => OsXml.Parse(xml));

        Assert.Equal(line, ex.Line);
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Parse_RandomInput_NeverThrowsAnythingButOsXmlException()
    {
        var random = new Random(1919);
        const string alphabet = "<>/!-=\"' \n\\&abc";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 20_000 && clock.Elapsed < TimeSpan.FromSeconds(2); i++)
        {
            var chars = new char[random.Next(0, 40)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            try
            {
                OsXml.Parse(new string(chars));
            }
            catch (OsXmlException)
            {
            }
        }
    }
}
