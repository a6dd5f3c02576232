using Vigil.Tests.Common;
using Vigil.Transport.Registry;

namespace Vigil.Transport.Tests.Registry;

public sealed class AgentRegistryTests
{
    [Fact]
    public void TryAdd_NamesAndRemovals_IdsAreSequentialNeverReusedAndNamesUniqueAmongActive()
    {
        using var temp = new TempDirectory();
        using var registry = new AgentRegistry(temp.Combine("agents.db"));
        Assert.Equal("001", registry.TryAdd("web-01", "127.0.0.1", "1.0", _ => "aa"));
        Assert.Equal("002", registry.TryAdd("web-02", null, null, _ => "bb"));
        Assert.Null(registry.TryAdd("web-01", null, null, _ => "cc"));

        Assert.True(registry.Remove("002"));
        Assert.False(registry.Remove("002"));
        Assert.True(registry.Find("002")!.IsRemoved);
        Assert.Equal("003", registry.TryAdd("web-02", null, null, _ => "dd"));
        Assert.Equal(["001", "002", "003"], registry.List().Select(a => a.Id));
    }

    [Fact]
    public void SaveWatermarks_LowerValue_KeepsTheHighest()
    {
        using var temp = new TempDirectory();
        using var registry = new AgentRegistry(temp.Combine("agents.db"));
        registry.SaveWatermarks(new Dictionary<string, ulong> { ["001"] = 10 });
        registry.SaveWatermarks(new Dictionary<string, ulong> { ["001"] = 7, ["002"] = 3 });
        var marks = registry.Watermarks();
        Assert.Equal(10UL, marks["001"]);
        Assert.Equal(3UL, marks["002"]);
    }

    [Fact]
    public void SaveBatch_WatermarksAndAlertEnds_CommittedTogetherAndReadAfterReopen()
    {
        using var temp = new TempDirectory();
        using (var registry = new AgentRegistry(temp.Combine("agents.db")))
        {
            Assert.Null(registry.CommittedAlertEnds());
            registry.SaveBatch(new Dictionary<string, ulong> { ["001"] = 5 }, (100, 80));
            registry.SaveBatch(new Dictionary<string, ulong>(), (150, 120));
        }

        using var reopened = new AgentRegistry(temp.Combine("agents.db"));
        Assert.Equal((150L, 120L), reopened.CommittedAlertEnds());
        Assert.Equal(5UL, reopened.Watermarks()["001"]);
    }
}
