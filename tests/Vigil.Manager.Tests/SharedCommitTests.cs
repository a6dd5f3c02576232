using Vigil.Transport.Registry;

namespace Vigil.Manager.Tests;

public sealed class SharedCommitTests
{
    [Fact]
    public void Decode_OfEncode_GivesTheSameWatermarksAndResponses()
    {
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_123);
        var commit = new SharedCommit(
            "c0ffee",
            new Dictionary<string, ulong> { ["000"] = 7, ["001"] = ulong.MaxValue - 1 },
            [
                new OutboxResponse("001", "remove-threat", "{\"path\":\"/tmp/a \\\"b\\\"\\n\"}", deadline),
                new OutboxResponse("000", "", "{}", DateTimeOffset.MaxValue),
            ]);

        var decoded = SharedCommit.Decode(commit.Encode());

        Assert.Equal("c0ffee", decoded.Id);
        Assert.Equal(commit.Watermarks, decoded.Watermarks);
        Assert.Equal(commit.Responses, decoded.Responses);
    }
}
