using Microsoft.Extensions.Time.Testing;
using Vigil.Core;
using Vigil.Core.Prevention;
using Vigil.Intel.Prevention;
using Vigil.Tests.Common;

namespace Vigil.Intel.Tests.Prevention;

public sealed class PreventionVerdictsTests : IDisposable
{
    private readonly TempDirectory _temp = new("vigil-prevention-verdicts");

    [Fact]
    public void Lookup_BuiltinAndConfiguredLists_AreMaliciousWithTheListAsSource()
    {
        var bad = new string('c', 64);
        _temp.WriteFile("bad.sha256", bad + "  dropper.bin\n");
        var verdicts = PreventionVerdicts.Create(new PreventionOptions { HashLists = ["bad.sha256"] }, [], p => _temp.Combine(p), new FakeTimeProvider());

        Assert.Equal(new PreventionVerdict(PreventionVerdictKind.Malicious, "builtin", "EICAR-Test-File"), verdicts.Lookup(Eicar.Sha256));
        var listed = verdicts.Lookup(bad);
        Assert.True(listed.IsMalicious);
        Assert.Equal("bad.sha256", listed.Source);
        Assert.Equal(PreventionVerdictKind.Unknown, verdicts.Lookup(new string('d', 64)).Kind);
    }

    [Fact]
    public void Create_MissingListFile_ThrowsNamingIt()
    {
        var error = Assert.Throws<VigilException>(() =>
            PreventionVerdicts.Create(new PreventionOptions { HashLists = ["missing.sha256"] }, [], p => _temp.Combine(p), new FakeTimeProvider()));

        Assert.Contains("missing.sha256", error.Message);
    }

    public void Dispose() => _temp.Dispose();
}
