using Vigil.Analysis.Decoding;
using Vigil.Core.Events;

namespace Vigil.Analysis.Tests.Decoding;

/// <summary>Text the way Vigil takes it (docs/text.md): lone surrogates and invalid UTF-8 become U+FFFD, NUL stays; nothing throws.</summary>
public sealed class HostileTextTests
{
    private static AnalysisEvent Decode(string line)
    {
        var e = new AnalysisEvent(EventMessage.TryParse(line)!, DateTimeOffset.UnixEpoch);
        DecoderSet.BuiltIn.Decode(e);
        return e;
    }

    [Theory]
    [InlineData("\\udcff", "\uFFFD")]
    [InlineData("\\ud800", "\uFFFD")]
    [InlineData("\\ud800\\u0041", "\uFFFDA")]
    [InlineData("\\ud83d\\ude00", "\U0001F600")]
    [InlineData("\\udcff\\ud800", "\uFFFD\uFFFD")]
    [InlineData("\\u0000", "\0")]
    public void Syscheck_LoneSurrogateEscapeInThePath_DecodesWithReplacement(string escaped, string expected)
    {
        // Before: JsonFieldFlattener threw InvalidOperationException and the manager's analysis loop ended.
        var e = Decode("""8:syscheck:{"type":"event","data":{"path":"/x/pESCAPED.txt","mode":"realtime","type":"added","attributes":{"type":"file","size":1}}}""".Replace("ESCAPED", escaped, StringComparison.Ordinal));

        Assert.NotNull(e.Decoder);
        Assert.Equal($"/x/p{expected}.txt", e.Fields.Get("file"));
    }

    [Theory]
    [InlineData("""1:app:{"k\udcff": "v", "o": {"n\ud800": "\udfff"}}""")]
    [InlineData("""1:app:{"big": 1e400, "neg": -1e400, "wide": 18446744073709551616123}""")]
    [InlineData("""1:app:{"a": [1, "\udcff", {"b": "\ud800"}]}""")]
    public void Json_HostileNamesAndValues_DecodeWithoutThrowing(string line)
    {
        var e = Decode(line);

        Assert.Equal("json", e.Decoder!.Name);
        Assert.NotEmpty(e.Fields.Dynamic);
        Assert.All(e.Fields.Dynamic, f => Assert.False(EventText.HasLoneSurrogate(f.Key + f.Value)));
    }

    [Fact]
    public void Json_NumberTooLargeForADouble_KeepsItsText()
    {
        var e = Decode("""1:app:{"big": 1e400}""");

        Assert.Equal("1e400", e.Fields.GetDynamic("big"));
    }

    [Fact]
    public void Pipeline_LoneSurrogateCharacterInTheMessage_IsReplacedBeforeDecoding()
    {
        using var harness = new RuleHarness();

        var result = harness.Pipeline.Process(new EventMessage('8', "syscheck", """{"type":"event","data":{"path":"/root/a""" + "\uDCFF" + """b","mode":"realtime","type":"added","attributes":{"type":"file","size":1}}}"""));

        Assert.Contains("/root/a\uFFFDb", result.AlertJson!, StringComparison.Ordinal);
    }
}
