using Vigil.Analysis.Decoding;
using Vigil.Core.Events;

namespace Vigil.Analysis.Tests.Decoding;

public sealed class DecoderTests
{
    private static AnalysisEvent Decode(string line)
    {
        var e = new AnalysisEvent(EventMessage.TryParse(line)!, DateTimeOffset.UnixEpoch);
        DecoderSet.BuiltIn.Decode(e);
        return e;
    }

    [Fact]
    public void Json_NestedKeys_BecomeDottedStringFields()
    {
        var e = Decode("""1:virustotal:{"virustotal": {"found": 1, "ratio": 2.5, "ok": true, "none": null, "list": ["a", 1], "source": {"file": "/root/x"}}, "integration": "virustotal"}""");
        Assert.Equal("json", e.Decoder!.Name);
        Assert.Equal("1", e.Fields.GetDynamic("virustotal.found"));
        Assert.Equal("2.500000", e.Fields.GetDynamic("virustotal.ratio"));
        Assert.Equal("true", e.Fields.GetDynamic("virustotal.ok"));
        Assert.Equal("null", e.Fields.GetDynamic("virustotal.none"));
        Assert.Equal("[\"a\",1]", e.Fields.GetDynamic("virustotal.list"));
        Assert.Equal("/root/x", e.Fields.GetDynamic("VirusTotal.Source.File"));
        Assert.Equal("virustotal", e.Fields.GetDynamic("integration"));
    }

    [Fact]
    public void Json_NestedNamesLongEscapedOrWide_KeepTheirText()
    {
        var longName = new string('n', 300);
        var e = Decode($$$"""1:app:{"o": {"{{{longName}}}": "1", "caf\u00e9": "2", "k\u0065y": "3", "\u20ac": {"x": "4"}, "arr": [], "wide": ["\u00e9", "<b>", [], {}]}}""");
        Assert.Equal("1", e.Fields.GetDynamic("o." + longName));
        Assert.Equal("2", e.Fields.GetDynamic("o.caf\u00e9"));
        Assert.Equal("3", e.Fields.GetDynamic("o.key"));
        Assert.Equal("4", e.Fields.GetDynamic("o.\u20ac.x"));
        Assert.Equal("[]", e.Fields.GetDynamic("o.arr"));
        Assert.Equal("[\"\\u00E9\",\"\\u003Cb\\u003E\",[],{}]", e.Fields.GetDynamic("o.wide"));
    }

    [Fact]
    public void Json_TopLevelStaticNames_FillStaticFieldsButNestedOnesDoNot()
    {
        var e = Decode("""1:app:{"srcip": "10.0.0.1", "user": "ann", "inner": {"srcip": "10.0.0.2"}}""");
        Assert.Equal("10.0.0.1", e.Fields.GetStatic("srcip"));
        Assert.Equal("ann", e.Fields.GetStatic("dstuser"));
        Assert.Null(e.Fields.GetDynamic("srcip"));
        Assert.Equal("10.0.0.2", e.Fields.GetDynamic("inner.srcip"));
    }

    [Fact]
    public void Json_AgentLocation_SplitsAgentAndLocation()
    {
        var e = Decode("""1:[001] (web-01) 10.0.0.5->virustotal:{"integration": "virustotal"}""");
        Assert.Equal("001", e.AgentId);
        Assert.Equal("web-01", e.Agent!.Name);
        Assert.Equal("10.0.0.5", e.Agent.Ip);
        Assert.Equal("virustotal", e.Location);
    }

    [Fact]
    public void ArLogJson_DecodesJsonAndIgnoresTrailingText()
    {
        var e = Decode("""1:/var/ossec/logs/active-responses.log:2024/01/02 03:04:05 active-response/bin/remove-threat.sh: {"command":"add","parameters":{"program":"active-response/bin/remove-threat.sh","alert":{"data":{"virustotal":{"source":{"file":"/root/a b"}}}}}} Successfully removed threat""");
        Assert.Equal("ar_log_json", e.Decoder!.Name);
        Assert.Equal("ar_log_json", e.Decoder.Parent);
        Assert.Equal("add", e.Fields.GetDynamic("command"));
        Assert.Equal("/root/a b", e.Fields.GetDynamic("parameters.alert.data.virustotal.source.file"));
        Assert.EndsWith("Successfully removed threat", e.Log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2024/01/02 03:04:05 active-response/bin/x: {}", true)]
    [InlineData("2024/01/02 03:04:05 active-response/bin/: {}", false)]
    [InlineData("2024-01-02 03:04:05 active-response/bin/x: {}", false)]
    [InlineData("2024/01/02 03:04:05 /usr/bin/x: {}", false)]
    public void ArLogJson_Prematch(string line, bool matches) =>
        Assert.Equal(matches, ArLogJsonDecoder.MatchPrematch(line) > 0);

    [Fact]
    public void Fim_Added_UsesWazuhDecoderNameFieldsAndFullLog()
    {
        var e = Decode(Events.Fim("/root/eicar.com"));
        Assert.Equal(FimDecoder.Added, e.Decoder!.Name);
        Assert.Equal("ossec", e.Decoder.Category);
        Assert.Equal("File '/root/eicar.com' added\nMode: realtime\n", e.FullLog);
        Assert.Equal("/root/eicar.com", e.Fields.GetDynamic("file"));
        Assert.Equal("44d88612fea8a8f36de82e1278abb02f", e.Fields.GetDynamic("md5"));
        Assert.Equal("68", e.Fields.GetDynamic("size"));
        Assert.Equal("added", e.Fields.GetDynamic("event_type"));
    }

    [Fact]
    public void Fim_Modified_ListsEachChangedAttributeInWazuhOrder()
    {
        var line = Events.Fim("/etc/app.conf", "modified", "scheduled",
            ""","changed_attributes":["size","permission","md5"],"old_attributes":{"type":"file","size":10,"perm":"rw-------","uid":"0","gid":"0","user_name":"root","group_name":"root","inode":"1704505","mtime":1700000000,"hash_md5":"d41d8cd98f00b204e9800998ecf8427e","hash_sha1":"3395856ce81f2b7382dee72602f798b642f14140","hash_sha256":"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}""");
        var e = Decode(line);
        Assert.Equal(FimDecoder.Modified, e.Decoder!.Name);
        Assert.Equal(
            "File '/etc/app.conf' modified\nMode: scheduled\nChanged attributes: size,permission,md5\n" +
            "Size changed from '10' to '68'\nPermissions changed from 'rw-------' to 'rw-r--r--'\n" +
            "Old md5sum was: 'd41d8cd98f00b204e9800998ecf8427e'\nNew md5sum is : '44d88612fea8a8f36de82e1278abb02f'\n",
            e.FullLog);
        Assert.Equal("10", e.Fields.GetDynamic("size_before"));
        Assert.Equal("size,permission,md5", e.Fields.GetDynamic("changed_fields"));
    }

    [Fact]
    public void Fim_LongPath_IsShortenedInFullLogOnly()
    {
        var path = "/" + new string('a', 800);
        var e = Decode(Events.Fim(path));
        Assert.Contains(" [...] ", e.FullLog, StringComparison.Ordinal);
        Assert.Equal(path, e.Fields.GetDynamic("file"));
    }

    [Fact]
    public void Fim_ScanStart_IsClaimedAndSuppressed()
    {
        var e = Decode("""8:syscheck:{"type":"scan_start","data":{"timestamp":1700000000}}""");
        Assert.True(e.IsSuppressed);
    }

    [Fact]
    public void Ossec_QueueOverflowMessage_IsDecodedAsOssec()
    {
        var e = Decode("1:syscheck:ossec: Real-time inotify kernel queue is full. Some events may be lost. Next scheduled scan will recover lost data.");
        Assert.Equal("ossec", e.Decoder!.Name);
    }

    [Fact]
    public void Fim_KeysInAnyOrderAndEscapedNames_AreRead()
    {
        var e = Decode("""8:syscheck:{"data":{"attributes":{"hash_md5":"m","s\u0069ze":7},"t\u0079pe":"added","path":"\/root\/caf\u00e9"},"type":"event"}""");
        Assert.Equal(FimDecoder.Added, e.Decoder!.Name);
        Assert.Equal("/root/caf\u00e9", e.Syscheck!.Path);
        Assert.Equal("7", e.Fields.GetDynamic("size"));
        Assert.Equal("m", e.Fields.GetDynamic("md5"));
        Assert.Equal("scheduled", e.Syscheck.Mode);
    }

    [Fact]
    public void Fim_RepeatedKey_CountsByItsLastValue()
    {
        var e = Decode("""8:syscheck:{"type":"scan_end","type":"event","data":{"path":"/a","path":"/b","type":"added","attributes":{"size":1},"attributes":{"size":2,"size":"3"}}}""");
        Assert.Equal(FimDecoder.Added, e.Decoder!.Name);
        Assert.Equal("/b", e.Syscheck!.Path);
        Assert.Equal("3", e.Syscheck.After.Size);
    }

    // Queue 8 is syscheck's alone: a message that is not a FIM message is invalid (a dead letter on a host), never
    // handed to another decoder as an odd log line.
    [Theory]
    [InlineData("""8:syscheck:{"type":"event","data":{"path":"/a","type":"added"}} trailing""", "invalid: not a FIM message: invalid JSON")]
    [InlineData("""8:syscheck:{"type":"event","data":{"path":"/a","type":"added"}""", "invalid: not a FIM message: invalid JSON")]
    [InlineData("""8:syscheck:{"type":7,"data":{"path":"/a","type":"added"}}""", "invalid: not a FIM message: no string \"type\"")]
    [InlineData("""8:syscheck:{"type":"event","data":{"path":"/a","type":"renamed"}}""", "invalid: not a FIM message: unknown event type \"renamed\"")]
    [InlineData("""8:syscheck:{"type":"event","data":{"type":"added"}}""", "invalid: not a FIM message: an event without a string data.path")]
    [InlineData("""8:syscheck:{"type":"event","data":["path"]}""", "invalid: not a FIM message: an event without a \"data\" object")]
    [InlineData("""8:syscheck:/etc/passwd changed""", "invalid: not a FIM message: not a JSON object")]
    [InlineData("""8:syscheck:{"type":"scan_end","data":{"timestamp":1}}""", FimDecoder.Control)]
    [InlineData("""8:syscheck:{"type":"event","data":{"path":"/a","type":"added"}}  """, FimDecoder.Added)]
    public void Fim_MessageShape_DecidesTheDecoder(string line, string expected)
    {
        var e = Decode(line);
        var actual = e.InvalidReason is { } reason ? "invalid: " + reason : e.Decoder!.Name;
        Assert.StartsWith(expected, actual, StringComparison.Ordinal);
        Assert.Equal(e.InvalidReason is not null, e.IsSuppressed && e.Decoder is null);
    }

    [Theory]
    [InlineData("""1:virustotal:{"virustotal":{"found":1""", "invalid: not a result of integration virustotal: invalid JSON")]
    [InlineData("""1:[001] (web-01) 10.0.0.5->vigil-intel:not json""", "invalid: not a result of integration vigil-intel: not a JSON object")]
    [InlineData("""1:virustotal:{"virustotal":{"found":0},"integration":"virustotal"}""", "json")]
    [InlineData("""1:/var/log/app.json:{"a":1""", "json")] // an odd log line elsewhere is analysed as Wazuh does
    public void Integration_MessageShape_DecidesTheDecoder(string line, string expected)
    {
        var e = Decode(line);
        Assert.Equal(expected, e.InvalidReason is { } reason ? "invalid: " + reason : e.Decoder!.Name);
    }

    [Fact]
    public void Fim_ValuesOfOtherKinds_PrintAsFieldValuesOrAreLeftOut()
    {
        var e = Decode("""8:syscheck:{"type":"event","data":{"path":"/a","type":"modified","mode":1,"changed_attributes":["size",2,true,null,[1,"x"],{"k":"v"}],"attributes":{"size":1.5,"uid":0,"user_name":5,"mtime":"1700000000","inode":4294967296,"extra":{"a":[1]}},"old_attributes":"none"}}""");
        var fim = e.Syscheck!;
        Assert.Equal("scheduled", fim.Mode);
        Assert.Equal(["size", "2", "true", "null", "[1,\"x\"]", "{\"k\":\"v\"}"], fim.ChangedAttributes!);
        Assert.Equal("1.500000", fim.After.Size);
        Assert.Equal("0", fim.After.Uid);
        Assert.Null(fim.After.UserName);
        Assert.Null(fim.After.Mtime);
        Assert.Equal("4294967296", fim.After.Inode);
        Assert.Null(fim.Before);
    }

    [Fact]
    public void Fim_Audit_FillsWhodataFieldsAndIsKeptForTheAlert()
    {
        var e = Decode("""8:syscheck:{"type":"event","data":{"path":"/a","type":"added","audit":{"user_name":"root","process_id":42,"extra":{"x":[1]}},"attributes":{}}}""");
        Assert.Equal("root", e.Fields.GetDynamic("user_name"));
        Assert.Equal("42", e.Fields.GetDynamic("process_id"));
        Assert.Equal("""{"user_name":"root","process_id":42,"extra":{"x":[1]}}""", e.Syscheck!.Audit!.Value.GetRawText());
    }
}
