using Vigil.Analysis.Rules.Lists;
using Vigil.Core;
using Vigil.Core.Patterns;

namespace Vigil.Analysis.Tests.Rules.Lists;

public sealed class CdbListTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vigil-cdb-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static CdbList ListOf(params string[] lines) => CdbList.Parse("etc/lists/test", lines);

    [Fact]
    public void Load_KeyValueLines_ReadsEveryEntry()
    {
        var path = Write("audit-keys", "audit-wazuh-w:write\naudit-wazuh-r:read\r\nbare-key:\nno-colon\n");

        var list = CdbList.Load(path);

        Assert.Equal(path, list.Path);
        Assert.Equal(4, list.Count);
        Assert.True(list.TryGetValue("audit-wazuh-w", out var value));
        Assert.Equal("write", value);
        Assert.True(list.TryGetValue("audit-wazuh-r", out value));
        Assert.Equal("read", value);
        Assert.True(list.TryGetValue("bare-key", out value));
        Assert.Equal("", value);
        Assert.True(list.TryGetValue("no-colon", out value));
        Assert.Equal("", value);
    }

    [Fact]
    public void Parse_ValueContainingColons_KeepsEverythingAfterTheFirstColon()
    {
        var list = ListOf("url:http://example.org:8080/x");

        Assert.True(list.TryGetValue("url", out var value));
        Assert.Equal("http://example.org:8080/x", value);
    }

    [Fact]
    public void Parse_QuotedKey_MayContainColons()
    {
        var list = ListOf("\"a0:a0:a0:a0:a0:a0\":", "\"b1:b1:b1:b1:b1:b1\":router", "\"c2:c2\"");

        Assert.True(list.ContainsKey("a0:a0:a0:a0:a0:a0"));
        Assert.True(list.TryGetValue("b1:b1:b1:b1:b1:b1", out var value));
        Assert.Equal("router", value);
        Assert.True(list.ContainsKey("c2:c2"));
        Assert.False(list.ContainsKey("\"c2:c2\""));
    }

    [Fact]
    public void Parse_BlankAndCommentLines_AreSkipped()
    {
        var list = ListOf("", "   ", "# bad hosts", "evil.example:", "\t");

        Assert.Equal(1, list.Count);
        Assert.True(list.ContainsKey("evil.example"));
    }

    [Fact]
    public void Parse_DuplicateKey_FirstEntryWins()
    {
        var list = ListOf("root:first", "root:second");

        Assert.True(list.TryGetValue("root", out var value));
        Assert.Equal("first", value);
    }

    [Theory]
    [InlineData("\"a:b:c", "unterminated quoted key")]
    [InlineData("\"a:b\"x:value", "expected ':' after the quoted key at column 6")]
    [InlineData(":value", "empty key")]
    [InlineData("\"\":value", "empty key")]
    public void Load_MalformedLine_ThrowsWithPathAndLine(string badLine, string reason)
    {
        var path = Write("bad", "good:1\n\n" + badLine + "\nalso-good:2\n");

        var ex = Assert.Throws<VigilException>(() => CdbList.Load(path));

        Assert.Equal($"{path}:3: {reason}: {badLine}", ex.Message);
    }

    [Fact]
    public void Load_MissingFile_ThrowsNamingThePath()
    {
        var path = Path.Combine(_dir, "missing");

        var ex = Assert.Throws<VigilException>(() => CdbList.Load(path));

        Assert.StartsWith($"{path}: cannot read list: ", ex.Message);
    }

    [Fact]
    public void Matches_MatchKey_IsExactAndCaseSensitive()
    {
        var list = ListOf("root:", "admin:");

        Assert.True(list.Matches(CdbLookup.MatchKey, "root", null));
        Assert.False(list.Matches(CdbLookup.MatchKey, "Root", null));
        Assert.False(list.Matches(CdbLookup.MatchKey, "roo", null));
        Assert.False(list.Matches(CdbLookup.MatchKey, "rooted", null));
    }

    [Fact]
    public void Matches_NotMatchKey_IsTheInverse()
    {
        var list = ListOf("0:", "1000:");

        Assert.False(list.Matches(CdbLookup.NotMatchKey, "1000", null));
        Assert.True(list.Matches(CdbLookup.NotMatchKey, "1001", null));
    }

    [Fact]
    public void Matches_MatchKeyValue_ChecksTheValueWithTheOsRegex()
    {
        var list = ListOf("alice:finance", "bob:engineering");
        var check = Pattern.Compile("^finance$", PatternType.OsRegex);

        Assert.True(list.Matches(CdbLookup.MatchKeyValue, "alice", check));
        Assert.False(list.Matches(CdbLookup.MatchKeyValue, "bob", check));
        Assert.False(list.Matches(CdbLookup.MatchKeyValue, "carol", check));
    }

    [Fact]
    public void Matches_MatchKeyValueWithNegatedCheck_HonoursNegation()
    {
        var list = ListOf("alice:finance", "bob:engineering");
        var check = Pattern.Compile("finance", PatternType.OsRegex, negate: true);

        Assert.False(list.Matches(CdbLookup.MatchKeyValue, "alice", check));
        Assert.True(list.Matches(CdbLookup.MatchKeyValue, "bob", check));
        Assert.False(list.Matches(CdbLookup.MatchKeyValue, "carol", check));
    }

    [Fact]
    public void Matches_MatchKeyValueWithoutCheck_NeedsOnlyTheKey()
    {
        var list = ListOf("alice:finance");

        Assert.True(list.Matches(CdbLookup.MatchKeyValue, "alice", null));
        Assert.False(list.Matches(CdbLookup.MatchKeyValue, "bob", null));
    }

    [Theory]
    [InlineData("192.168.0.1", true)]
    [InlineData("192.168.255.255", true)]
    [InlineData("192.169.0.1", false)]
    [InlineData("172.16.19.7", true)]
    [InlineData("172.16.20.7", false)]
    [InlineData("10.1.1.1", true)]
    [InlineData("10.1.1.10", false)]
    [InlineData("10.1.1.2", false)]
    [InlineData("1.2.3.4", false)]
    [InlineData("not-an-ip", false)]
    public void Matches_AddressMatchKey_MatchesFullAddressesAndDottedNetworks(string ip, bool expected)
    {
        var list = ListOf("192.168.:private", "172.16.19.:lab", "10.1.1.1:host");

        Assert.Equal(expected, list.Matches(CdbLookup.AddressMatchKey, ip, null));
        Assert.Equal(!expected, list.Matches(CdbLookup.NotAddressMatchKey, ip, null));
    }

    [Fact]
    public void Matches_AddressMatchKeyValue_UsesTheMostSpecificEntry()
    {
        var list = ListOf("10.:corp", "10.1.:block", "10.1.1.1:allow");
        var block = Pattern.Compile("^block$", PatternType.OsRegex);

        Assert.False(list.Matches(CdbLookup.AddressMatchKeyValue, "10.1.1.1", block));
        Assert.True(list.Matches(CdbLookup.AddressMatchKeyValue, "10.1.2.3", block));
        Assert.False(list.Matches(CdbLookup.AddressMatchKeyValue, "10.2.0.1", block));
        Assert.False(list.Matches(CdbLookup.AddressMatchKeyValue, "11.1.2.3", block));
    }

    [Fact]
    public void Matches_PlainKeyLookupOnNetworkKey_DoesNotExpandNetworks()
    {
        var list = ListOf("192.168.:private");

        Assert.False(list.Matches(CdbLookup.MatchKey, "192.168.1.1", null));
        Assert.True(list.Matches(CdbLookup.AddressMatchKey, "192.168.1.1", null));
    }

    [Theory]
    [InlineData(null, nameof(CdbLookup.MatchKey))]
    [InlineData("", nameof(CdbLookup.MatchKey))]
    [InlineData("match_key", nameof(CdbLookup.MatchKey))]
    [InlineData("not_match_key", nameof(CdbLookup.NotMatchKey))]
    [InlineData("match_key_value", nameof(CdbLookup.MatchKeyValue))]
    [InlineData("address_match_key", nameof(CdbLookup.AddressMatchKey))]
    [InlineData("not_address_match_key", nameof(CdbLookup.NotAddressMatchKey))]
    [InlineData("address_match_key_value", nameof(CdbLookup.AddressMatchKeyValue))]
    public void TryParseLookup_KnownName_ReturnsLookup(string? attribute, string expected)
    {
        Assert.True(CdbList.TryParseLookup(attribute, out var lookup));
        Assert.Equal(expected, lookup.ToString());
    }

    [Theory]
    [InlineData("match")]
    [InlineData("MATCH_KEY")]
    [InlineData("not_address_match_key_value")]
    public void TryParseLookup_UnknownName_ReturnsFalse(string attribute) => Assert.False(CdbList.TryParseLookup(attribute, out _));
}
