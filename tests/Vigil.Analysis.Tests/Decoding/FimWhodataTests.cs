using System.Text.Json;

namespace Vigil.Analysis.Tests.Decoding;

public sealed class FimWhodataTests
{
    private const string Audit = ""","audit":{"user_id":"1000","user_name":"alice","group_id":"1000","group_name":"staff","process_name":"/usr/bin/cp","process_id":4242,"ppid":4200,"cwd":"/home/alice","parent_name":"/usr/bin/bash","parent_cwd":"/home/alice","audit_uid":"1000","audit_name":"alice","effective_uid":"0","effective_name":"root"}""";

    private static JsonElement Alert(string line)
    {
        using var harness = new RuleHarness();
        var result = harness.Process(line);
        Assert.NotNull(result.Alert);
        return JsonDocument.Parse(result.AlertJson!).RootElement;
    }

    [Fact]
    public void Whodata_IsNestedAsWazuhsAlertPrintsIt()
    {
        var alert = Alert(Events.Fim("/etc/evil.sh", mode: "whodata", extra: Audit));

        var audit = alert.GetProperty("syscheck").GetProperty("audit");
        Assert.Equal("1000", audit.GetProperty("user").GetProperty("id").GetString());
        Assert.Equal("alice", audit.GetProperty("user").GetProperty("name").GetString());
        Assert.Equal("staff", audit.GetProperty("group").GetProperty("name").GetString());
        Assert.Equal("/usr/bin/cp", audit.GetProperty("process").GetProperty("name").GetString());
        Assert.Equal("4242", audit.GetProperty("process").GetProperty("id").GetString());
        Assert.Equal("4200", audit.GetProperty("process").GetProperty("ppid").GetString());
        Assert.Equal("/usr/bin/bash", audit.GetProperty("process").GetProperty("parent_name").GetString());
        Assert.Equal("/home/alice", audit.GetProperty("process").GetProperty("cwd").GetString());
        Assert.Equal("alice", audit.GetProperty("login_user").GetProperty("name").GetString());
        Assert.Equal("root", audit.GetProperty("effective_user").GetProperty("name").GetString());
        Assert.Equal("0", audit.GetProperty("effective_user").GetProperty("id").GetString());
    }

    [Fact]
    public void Whodata_EmptyValues_LeaveTheirSectionOut()
    {
        var alert = Alert(Events.Fim("/etc/evil.sh", mode: "whodata", extra: ""","audit":{"user_id":"","process_name":"/bin/touch"}"""));

        var audit = alert.GetProperty("syscheck").GetProperty("audit");
        Assert.False(audit.TryGetProperty("user", out _));
        Assert.Equal("/bin/touch", audit.GetProperty("process").GetProperty("name").GetString());
    }

    [Fact]
    public void SymlinkPath_InAttributes_IsTheSymbolicPath()
    {
        var line = Events.Fim("/etc/link").Replace("\"inode\":\"1704505\"", "\"inode\":\"1704505\",\"symlink_path\":\"/tmp/target\"", StringComparison.Ordinal);

        var alert = Alert(line);

        Assert.Equal("/tmp/target", alert.GetProperty("syscheck").GetProperty("symbolic_path").GetString());
    }

    [Fact]
    public void AddedEvent_WithChangedAttributes_HasTheAttributesLine()
    {
        var alert = Alert(Events.Fim("/etc/new.sh", extra: ""","changed_attributes":["size","md5"]"""));

        Assert.Equal("File '/etc/new.sh' added\nMode: realtime\nChanged attributes: size,md5\n", alert.GetProperty("full_log").GetString());
    }

    [Fact]
    public void DeletedEvent_WithChangedAttributes_HasTheAttributesLine()
    {
        var alert = Alert(Events.Fim("/etc/old.sh", type: "deleted", mode: "scheduled", extra: ""","changed_attributes":["size"]"""));

        Assert.Equal("File '/etc/old.sh' deleted\nMode: scheduled\nChanged attributes: size\n", alert.GetProperty("full_log").GetString());
    }
}
