using System.Text;
using Vigil.Core;
using Vigil.Intel.ClamAv;
using Vigil.Intel.LocalLists;
using Vigil.Intel.Scanning;
using Vigil.Tests.Common;

namespace Vigil.Intel.Tests.Scanning;

/// <summary>`vigil scan`'s walk with the ClamAV engine over a real clamd (started here).</summary>
public sealed class FileScannerEngineTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new("vigil-scan-clamav");
    private ClamdProcess _clamd = null!;

    public async Task InitializeAsync() => _clamd = await ClamdProcess.StartAsync();

    public async Task DisposeAsync()
    {
        await _clamd.DisposeAsync();
        _temp.Dispose();
    }

    [Fact(Timeout = 120_000)]
    public async Task ScanAsync_TreeWithClamAv_ManyScansInFlightEachResultItsOwnFilesInWalkOrder()
    {
        var expected = new List<(string Path, ScanVerdict Verdict, string? Signature)>();
        for (var i = 0; i < 150; i++)
        {
            var path = _temp.Combine("tree", $"d{i / 50}", $"f{i:D3}.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, (i % 3) switch
            {
                0 => Eicar.Bytes,
                1 => Encoding.ASCII.GetBytes($"<?php {ClamdProcess.WebshellMarker}'c{i}']); ?>"),
                _ => Encoding.ASCII.GetBytes($"clean {i}\n"),
            });
            expected.Add((path, i % 3 == 2 ? ScanVerdict.Unknown : ScanVerdict.Malicious,
                (i % 3) switch { 0 => ClamdProcess.EicarSignature, 1 => ClamdProcess.WebshellSignature, _ => null }));
        }

        var options = new IntelOptions();
        using var store = IntelStore.Open(_temp.Combine("intel.db"));
        using var engine = new ClamAvEngine(new ClamAvOptions { ClamdConf = _clamd.ConfPath, Timeout = TimeSpan.FromSeconds(20) });
        var scanner = new FileScanner(options, LocalIntel.FromOptions(options), store, null, TimeProvider.System, shouldWait: false) { Engines = [engine] };

        var results = new List<ScanResult>();
        await foreach (var result in scanner.ScanAsync([_temp.Combine("tree")], CancellationToken.None))
        {
            results.Add(result);
        }

        Assert.Equal(expected.Select(e => (e.Path, e.Verdict)), results.Select(r => (r.Path, r.Verdict)));
        Assert.Equal(expected.Select(e => e.Signature), results.Select(r => r.EngineResults.SingleOrDefault(e => e.Name is not null)?.Name));

        // The walk kept several files at clamd at once, not one after another.
        Assert.InRange(engine.Client.PeakInFlight, 2, engine.MaxConcurrentScans);
    }
}
