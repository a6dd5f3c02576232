using System.Text.Json;
using Vigil.Analysis.Alerts;
using Vigil.Tests.Common;

namespace Vigil.Analysis.Tests.Alerts;

public sealed class AlertOutputTests
{
    [Fact]
    public void Json_FimAlert_HasWazuhKeysInOrderAndTypes()
    {
        using var harness = new RuleHarness();
        var json = harness.Process(Events.Fim("/tmp/eicar.com")).AlertJson!;
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(
            ["timestamp", "rule", "agent", "manager", "id", "full_log", "syscheck", "decoder", "location"],
            root.EnumerateObject().Select(p => p.Name));
        var rule = root.GetProperty("rule");
        Assert.Equal(["level", "description", "id", "firedtimes", "mail", "groups", "pci_dss", "gdpr", "gpg13", "hipaa", "nist_800_53", "tsc"],
            rule.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Number, rule.GetProperty("level").ValueKind);
        Assert.Equal("554", rule.GetProperty("id").GetString());
        Assert.Equal(["ossec", "syscheck", "syscheck_entry_added", "syscheck_file"], rule.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal(["11.5"], rule.GetProperty("pci_dss").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal("000", root.GetProperty("agent").GetProperty("id").GetString());
        var syscheck = root.GetProperty("syscheck");
        Assert.Equal(JsonValueKind.Number, syscheck.GetProperty("inode_after").ValueKind);
        Assert.Equal("68", syscheck.GetProperty("size_after").GetString());
        Assert.Equal("added", syscheck.GetProperty("event").GetString());
        Assert.False(root.TryGetProperty("data", out _));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$", root.GetProperty("timestamp").GetString()!);
        Assert.Matches(@"^\d+\.\d+$", root.GetProperty("id").GetString()!);
    }

    [Fact]
    public void Json_ModifiedFim_PrintsBeforeOnlyWhenItDiffers()
    {
        using var harness = new RuleHarness();
        var line = Events.Fim("/etc/x", "modified", "scheduled",
            ""","changed_attributes":["size"],"old_attributes":{"type":"file","size":1,"perm":"rw-r--r--","uid":"0","gid":"0","inode":"1704505","mtime":1700000000}""");
        using var doc = JsonDocument.Parse(harness.Process(line).AlertJson!);
        var syscheck = doc.RootElement.GetProperty("syscheck");
        Assert.Equal("1", syscheck.GetProperty("size_before").GetString());
        Assert.False(syscheck.TryGetProperty("perm_before", out _));
        Assert.False(syscheck.TryGetProperty("inode_before", out _));
        Assert.Equal(["size"], syscheck.GetProperty("changed_attributes").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("550", doc.RootElement.GetProperty("rule").GetProperty("id").GetString());
        Assert.Equal(["T1565.001"], doc.RootElement.GetProperty("rule").GetProperty("mitre").GetProperty("id").EnumerateArray().Select(a => a.GetString()));
    }

    [Fact]
    public void Log_Entry_FollowsAlertsLogLayout()
    {
        using var harness = new RuleHarness();
        var result = harness.Process(Events.Fim("/tmp/eicar.com").Replace("8:syscheck:", "8:[001] (web) 10.0.0.5->syscheck:", StringComparison.Ordinal));
        var text = AlertLog.Format(result.Alert!, AnalysisFactory.ContextOf(harness.Config));
        var lines = text.Split('\n');
        Assert.Equal($"** Alert {result.Alert!.Id}: - ossec,syscheck,syscheck_entry_added,syscheck_file,pci_dss_11.5,gpg13_4.11,gdpr_II_5.1.f,hipaa_164.312.c.1,hipaa_164.312.c.2,nist_800_53_SI.7,tsc_PI1.4,tsc_PI1.5,tsc_CC6.1,tsc_CC6.8,tsc_CC7.2,tsc_CC7.3,", lines[0]);
        Assert.EndsWith(" (web) 10.0.0.5->syscheck", lines[1], StringComparison.Ordinal);
        Assert.Equal("Rule: 554 (level 5) -> 'File added to the system.'", lines[2]);
        Assert.Equal("File '/tmp/eicar.com' added", lines[3]);
        Assert.Contains(" - MD5: 44d88612fea8a8f36de82e1278abb02f", lines);
        Assert.Contains(" - User: root (0)", lines);
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1700000000)]
    [InlineData(1699000000)]
    [InlineData(0)]
    [InlineData(-62000000000)]
    [InlineData(253402000000)]
    public void Log_FimDate_IsCtimeLayoutInLocalTime(long mtime)
    {
        using var harness = new RuleHarness();
        var result = harness.Process(Events.Fim("/tmp/eicar.com").Replace("\"mtime\":1700000000", $"\"mtime\":{mtime}", StringComparison.Ordinal));
        var lines = AlertLog.Format(result.Alert!, AnalysisFactory.ContextOf(harness.Config)).Split('\n');
        var expected = LocalClock.FromUnixSeconds(mtime).ToString("ddd MMM d HH:mm:ss yyyy", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($" - Date: {expected}", lines);
    }

    [Theory]
    [InlineData(1700000000)]
    [InlineData(951782400)]
    [InlineData(0)]
    [InlineData(-62000000000)]
    [InlineData(253402000000)]
    public void LocalClock_FormatDateTime_IsIsoLayout(long epoch)
    {
        var local = LocalClock.FromUnixSeconds(epoch).DateTime;
        Span<char> text = stackalloc char[19];
        Assert.Equal(19, LocalClock.FormatDateTime(local, text, ' '));
        Assert.Equal(local.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture), text.ToString());
        Assert.Equal(local.ToString("yyyy-MM-dd'T'HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
            AlertJson.FormatTimestamp(LocalClock.FromUnixSeconds(epoch))[..19]);
    }

    [Fact]
    public void FileWriter_IdsAreAlertsLogOffsets()
    {
        using var temp = new TempDirectory();
        using var harness = new RuleHarness();
        string first, second;
        using (var writer = AlertFileWriter.Open(temp.Path, jsonOutput: true, logOutput: true))
        {
            var pipeline = AnalysisFactory.Create(harness.Config, harness.Rules, writer, harness.Clock);
            first = pipeline.Process(Vigil.Core.Events.EventMessage.TryParse(Events.Fim("/tmp/a"))!).Alert!.Id;
            second = pipeline.Process(Vigil.Core.Events.EventMessage.TryParse(Events.Fim("/tmp/b"))!).Alert!.Id;
        }

        var logLength = new FileInfo(temp.Combine("alerts.log")).Length;
        var firstEntryLength = long.Parse(second.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.EndsWith(".0", first, StringComparison.Ordinal);
        Assert.InRange(firstEntryLength, 1, logLength - 1);
        Assert.StartsWith("** Alert " + second, File.ReadAllText(temp.Combine("alerts.log"))[(int)firstEntryLength..], StringComparison.Ordinal);
        Assert.Equal(2, File.ReadAllLines(temp.Combine("alerts.json")).Length);
    }

    [Fact]
    public void FileWriter_LongEntriesWithWideCharacters_AreWrittenAsFormattedAndIdsCountTheirBytes()
    {
        using var temp = new TempDirectory();
        using var harness = new RuleHarness("""
            <group name="test,">
              <rule id="100000" level="5"><decoded_as>json</decoded_as><description>any json</description></rule>
            </group>
            """);
        var context = AnalysisFactory.ContextOf(harness.Config);

        // Entries past the formatting buffer's first chunk, with 2-, 3- and 4-byte UTF-8 characters.
        var lines = new[]
        {
            Events.Json($$"""{"a":"caf\u00e9-{{new string('x', 5000)}}\ud83d\ude00","b":"\u20ac{{string.Concat(Enumerable.Repeat("\ud83d\ude00", 3000))}}"}"""),
            Events.Json("""{"a":"short"}"""),
        };
        var entries = new List<string>();
        var ids = new List<string>();
        using (var writer = AlertFileWriter.Open(temp.Path, jsonOutput: false, logOutput: true))
        {
            var pipeline = AnalysisFactory.Create(harness.Config, harness.Rules, writer, harness.Clock);
            foreach (var line in lines)
            {
                var alert = pipeline.Process(Vigil.Core.Events.EventMessage.TryParse(line)!).Alert!;
                ids.Add(alert.Id);
                entries.Add(AlertLog.Format(alert, context));
            }
        }

        Assert.Equal(string.Concat(entries), File.ReadAllText(temp.Combine("alerts.log")));
        Assert.Equal($".{System.Text.Encoding.UTF8.GetByteCount(entries[0])}", ids[1][ids[1].IndexOf('.', StringComparison.Ordinal)..]);
        var detached = AnalysisFactory.Create(harness.Config, harness.Rules, AlertFileWriter.Detached(), harness.Clock);
        var detachedIds = lines.Select(l => detached.Process(Vigil.Core.Events.EventMessage.TryParse(l)!).Alert!.Id).ToList();
        Assert.Equal(ids.Select(i => i.Split('.')[1]), detachedIds.Select(i => i.Split('.')[1]));
    }

    [Fact]
    public void FileWriter_TornLastLine_IsCutOffOnOpenAndNewAlertsFollowWholeLines()
    {
        using var temp = new TempDirectory();
        var jsonPath = temp.Combine("alerts.json");
        const string Torn = "{\"id\":\"2\",\"rule\":{\"le";
        File.WriteAllText(jsonPath, "{\"id\":\"1\"}\n" + Torn);
        using var harness = new RuleHarness();
        using (var writer = AlertFileWriter.Open(temp.Path, jsonOutput: true, logOutput: false))
        {
            Assert.Equal(Torn.Length, writer.RepairedBytes);
            var pipeline = AnalysisFactory.Create(harness.Config, harness.Rules, writer, harness.Clock);
            pipeline.Process(Vigil.Core.Events.EventMessage.TryParse(Events.Fim("/tmp/a"))!);
        }

        var lines = File.ReadAllLines(jsonPath);
        Assert.Equal(2, lines.Length);
        Assert.Equal("{\"id\":\"1\"}", lines[0]);
        foreach (var line in lines)
        {
            using var _ = JsonDocument.Parse(line);
        }
    }

    [Fact]
    public void FileWriter_AlertsBeyondCommittedEnds_AreCutOnOpenAndEndsFollowWrites()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("alerts.json"), "{\"id\":\"1\"}\n{\"id\":\"uncommitted\"}\n");
        File.WriteAllText(temp.Combine("alerts.log"), "** Alert 1\n\n** Alert uncommitted\n\n");
        using var writer = AlertFileWriter.Open(temp.Path, jsonOutput: true, logOutput: true, committedEnds: (11, 12));
        Assert.Equal((11L, 12L), writer.Ends);
        Assert.Equal("{\"id\":\"1\"}\n", File.ReadAllText(temp.Combine("alerts.json")));
        Assert.Equal("** Alert 1\n\n", File.ReadAllText(temp.Combine("alerts.log")));
    }

    [Fact]
    public void FileWriter_FileWithoutAnyNewline_IsEmptiedOnOpen()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("alerts.json"), "{\"torn");
        using var writer = AlertFileWriter.Open(temp.Path, jsonOutput: true, logOutput: false);
        Assert.Equal(6, writer.RepairedBytes);
        Assert.Equal(0, new FileInfo(temp.Combine("alerts.json")).Length);
    }

    [Theory]
    [InlineData("""{"a": {"b": "1", "c": {"d": "2"}}, "e": "3"}""", """{"a":{"b":"1","c":{"d":"2"}},"e":"3"}""")]
    [InlineData("""{"x.y": "1", "x": {"z": "2"}}""", """{"x":{"y":"1","z":"2"}}""")]
    [InlineData("""{"x": {"y": "1"}, "w": "0", "x.z": "2"}""", """{"x":{"y":"1","z":"2"},"w":"0"}""")]
    [InlineData("""{"k": "v", "k.sub": "lost"}""", """{"k":"v"}""")]
    [InlineData("""{"list": [1, "a", {"b": 2}], "n": 2.5, "t": true}""", """{"list":[1,"a",{"b":2}],"n":"2.500000","t":"true"}""")]
    [InlineData("""{"a.b": "1", "a": "2"}""", """{"a":{"b":"1"}}""")]
    [InlineData("""{"a": "1", "a": "2"}""", """{"a":"1"}""")]
    [InlineData("""{"a": {"b": {"c": "1"}}, "a.b.d": "2", "a.e": "3", "f": "4"}""", """{"a":{"b":{"c":"1","d":"2"},"e":"3"},"f":"4"}""")]
    [InlineData("""{"a": {"b": {"c": "1"}}, "f": "4", "a.b": "2"}""", """{"a":{"b":{"c":"1"}},"f":"4"}""")]
    [InlineData("""{"a..b": "1", ".c": "2", "d.": "3", "srcip": "10.0.0.1"}""", """{"srcip":"10.0.0.1","a":{"":{"b":"1"}},"":{"c":"2"},"d":{"":"3"}}""")]
    [InlineData("""{"id": "7", "x": {"id": "8"}, "id.y": "9"}""", """{"id":"7","x":{"id":"8"}}""")]
    [InlineData("""{"a": {"b": "1"}, "c": "2", "a.b2": "3"}""", """{"a":{"b":"1","b2":"3"},"c":"2"}""")]
    [InlineData("""{"x": {"y": {"z": "1"}}, "x.y": "2"}""", """{"x":{"y":{"z":"1"}}}""")]
    [InlineData("""{"p": {"q": {"r": "1"}, "s": "2"}, "p.q.t": "3"}""", """{"p":{"q":{"r":"1","t":"3"},"s":"2"}}""")]
    [InlineData("""{"p": {"q": {"r": "1"}, "s": {"r": "2"}}, "t": {"q": "3"}}""", """{"p":{"q":{"r":"1"},"s":{"r":"2"}},"t":{"q":"3"}}""")]
    public void Json_Data_NestsDottedFieldsWithStringValues(string message, string expectedData)
    {
        using var harness = new RuleHarness("""
            <group name="test,">
              <rule id="100000" level="5"><decoded_as>json</decoded_as><description>any json</description></rule>
            </group>
            """);
        using var doc = JsonDocument.Parse(harness.Process(Events.Json(message)).AlertJson!);
        Assert.Equal(expectedData, doc.RootElement.GetProperty("data").GetRawText());
    }
}
