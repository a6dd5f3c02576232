using Vigil.Response.RemoveThreat;
using Vigil.Tests.Common;

namespace Vigil.Response.Tests.RemoveThreat;

/// <summary>Which active-response/bin/remove-threat Vigil's execd runs in process: only the ones Vigil ships.</summary>
public sealed class ShippedRemoveThreatTests : IDisposable
{
    private const string Marker = "\"$root/vigil\" remove-threat --home \"$root\"";
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = 600_000)]
    public async Task IsShipped_TheNativeBuild_IsRecognised()
    {
        var native = _temp.Combine("remove-threat");
        File.Copy(await PackageBuild.NativeRemoveThreatAsync(), native);
        Assert.True(ShippedRemoveThreat.IsShipped(native, Marker));
    }

    [Fact]
    public void IsShipped_TheCheckoutsWrapper_IsRecognised() =>
        Assert.True(ShippedRemoveThreat.IsShipped(RepositoryPaths.Get("active-response", "bin", "remove-threat"), Marker));

    [Fact]
    public void IsShipped_AnotherProgramOrALink_IsNot()
    {
        var other = _temp.Combine("other");
        File.Copy("/usr/bin/true", other); // an ELF program without the marker
        Assert.False(ShippedRemoveThreat.IsShipped(other, Marker));
        var script = _temp.WriteFile("script", "#!/bin/sh\nrm -f \"$1\"\n");
        Assert.False(ShippedRemoveThreat.IsShipped(script, Marker));
        var link = _temp.Combine("link");
        File.CreateSymbolicLink(link, RepositoryPaths.Get("active-response", "bin", "remove-threat"));
        Assert.False(ShippedRemoveThreat.IsShipped(link, Marker));
        Assert.False(ShippedRemoveThreat.IsShipped(_temp.Combine("missing"), Marker));
    }
}
