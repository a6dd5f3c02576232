using Vigil.Tests.Common;
using Vigil.Web.Index;

namespace Vigil.Web.Tests.Index;

public sealed class AlertFieldsTests
{
    private static readonly DateTimeOffset T0 = AlertSamples.Start;

    [Fact]
    public void Read_SeedFlowAlerts_TakeFileCauseAndQuarantine()
    {
        var fim = AlertFields.Read(AlertSamples.Fim("1.1", T0, "/root/eicar.com", "002", "web-02"))!;
        Assert.Equal(("1.1", 100201, 7, "002", "web-02", "/root/eicar.com", (string?)null), (fim.Id, fim.RuleId, fim.Level, fim.AgentId, fim.AgentName, fim.File, fim.CausedBy));
        Assert.Equal(T0, fim.Timestamp);
        Assert.Equal(["ossec", "syscheck", "syscheck_entry_added", "syscheck_file"], fim.Groups);

        var verdict = AlertFields.Read(AlertSamples.VirusTotal("1.2", T0, "/root/eicar.com", "1.1"))!;
        Assert.Equal(("/root/eicar.com", "1.1"), (verdict.File, verdict.CausedBy));
        Assert.Equal("VirusTotal: Alert - /root/eicar.com - 66 engines detected this file", verdict.Description);

        var removal = AlertFields.Read(AlertSamples.Removal("1.3", T0, "/root/eicar.com", "1.2"))!;
        Assert.Equal(("/root/eicar.com", "1.2"), (removal.File, removal.CausedBy));
        Assert.Null(removal.Quarantine);

        var record = AlertFields.Read(AlertSamples.Quarantine("1.4", T0, "quarantine", 7, "/root/eicar.com", "1.2"))!;
        Assert.Equal(new QuarantineChange(7, QuarantineStates.Quarantined, "/root/eicar.com", "275a021b", "1.2", "87105", null), record.Quarantine);
    }

    [Fact]
    public void Read_OddButValidDocuments()
    {
        // Escaped names and values, a nested array among the groups, arrays of objects, a deep tree, a +0100 offset.
        const string Json = """
            {"timestamp":"2026-11-28T11:00:00.000+0100","rule":{"level":3,"description":"a \"quoted\" \u00e9",
             "id":"550","groups":["a",["x"],{"y":1},"b"]},"agent":{"id":"001","name":"n"},"id":"9.9",
             "syscheck":{"p\u0061th":"/escaped-name","list":[{"path":"/in-array"}]},
             "deep":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":{"path":"x"}}}}}}}}}},
             "data":{"vigil":{"source":{"file":"/from-vigil","alert_id":"8.8"}}}}
            """;
        var fields = AlertFields.Read(Json)!;
        Assert.Equal("a \"quoted\" é", fields.Description);
        Assert.Equal(["a", "b"], fields.Groups);
        Assert.Equal("/from-vigil", fields.File); // the escaped "path" name is not read as syscheck.path; nor the array's
        Assert.Equal("8.8", fields.CausedBy);
        Assert.Equal(new DateTimeOffset(2026, 11, 28, 10, 0, 0, TimeSpan.Zero), fields.Timestamp);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("{\"rule\":{\"id\":\"5\"}}")]
    [InlineData("{\"timestamp\":\"2026-11-28T10:00:00.000+0000\",\"rule\":{\"id\":\"five\"}}")]
    [InlineData("{\"timestamp\":\"2026-11-28T10:00:00.000+0000\",\"rule\":{\"id\":\"5\"}")]
    [InlineData("{\"timestamp\":\"yesterday\",\"rule\":{\"id\":\"5\"}}")]
    [InlineData("not json")]
    [InlineData("")]
    public void Read_NotAnAlert_IsNull(string json) => Assert.Null(AlertFields.Read(json));
}
