namespace Vigil.Intel.Tests;

public sealed class PyJsonTests
{
    [Fact]
    public void ToString_MixedValues_MatchesPythonJsonDumps()
    {
        // python3 -c 'import json; print(json.dumps({"a": "x\"y\\z/\n\t\u00e9\U0001F600\x01\x7f", "b": True, "c": None, "l": ["p", "q"], "o": {"k": 0}}))'
        var json = new PyJson()
            .Add("a", "x\"y\\z/\n\t\u00e9\U0001F600\u0001\u007f")
            .Add("b", true)
            .Add("c", null)
            .Add("l", new[] { "p", "q" })
            .Add("o", new PyJson().Add("k", 0));

        Assert.Equal(
            "{\"a\": \"x\\\"y\\\\z/\\n\\t\\u00e9\\ud83d\\ude00\\u0001\\u007f\", \"b\": true, \"c\": null, \"l\": [\"p\", \"q\"], \"o\": {\"k\": 0}}",
            json.ToString());
    }

    [Fact]
    public void ToString_EmptyList_IsBrackets()
    {
        Assert.Equal("{\"l\": []}", new PyJson().Add("l", Array.Empty<string>()).ToString());
    }
}
