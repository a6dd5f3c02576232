using Microsoft.Extensions.Time.Testing;
using Vigil.Tests.Common;
using Vigil.Web.Index;

namespace Vigil.Web.Tests.Index;

/// <summary>The detection chain of a file an engine flagged: the 200601/200701 alert is a verdict with its engine, match and version.</summary>
public sealed class EngineChainTests : IDisposable
{
    private readonly TempDirectory _temp = new("vigil-engine-chain");
    private readonly AlertIndex _index;

    public EngineChainTests() =>
        _index = new AlertIndex(Path.Combine(_temp.Path, "alerts.db"), new AlertIndexOptions(), new FakeTimeProvider(AlertSamples.Start.AddMinutes(5)));

    [Fact]
    public void Chain_YaraAndClamAvVerdicts_CarryEngineMatchAndVersion()
    {
        var at = AlertSamples.Start;
        var fimId = AlertSamples.NewId(at);
        var yaraId = AlertSamples.NewId(at);
        var clamId = AlertSamples.NewId(at);
        var version = new string('b', 64);
        _index.Add([
            AlertSamples.Fim(fimId, at, "/srv/www/shell.php", "001", "web-01"),
            EngineAlertSamples.Yara(yaraId, at.AddSeconds(1), "/srv/www/shell.php", fimId, "Webshell_Eval", version, "001", "web-01"),
            EngineAlertSamples.ClamAv(clamId, at.AddSeconds(2), "/srv/www/shell.php", fimId, "Php.Webshell.UNOFFICIAL", "ClamAV 1.4.6 db:abc", "001", "web-01"),
        ]);

        var chain = _index.Chain("001", "/srv/www/shell.php");

        Assert.Equal([ChainStage.Fim, ChainStage.Verdict, ChainStage.Verdict], chain.Steps.Select(s => s.Stage));
        Assert.Null(chain.Steps[0].Engine);
        Assert.Equal(new ChainEngine("yara", "Webshell_Eval", version), chain.Steps[1].Engine);
        Assert.Equal(new ChainEngine("clamav", "Php.Webshell.UNOFFICIAL", "ClamAV 1.4.6 db:abc"), chain.Steps[2].Engine);
        Assert.Equal([null, fimId, fimId], chain.Steps.Select(s => s.CausedBy));
    }

    public void Dispose()
    {
        _index.Dispose();
        _temp.Dispose();
    }
}
