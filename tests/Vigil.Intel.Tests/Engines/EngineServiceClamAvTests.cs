using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Vigil.Core;
using Vigil.Core.Configuration;
using Vigil.Intel.ClamAv;
using Vigil.Intel.Engines;
using Vigil.Intel.Selection;
using Vigil.Tests.Common;

namespace Vigil.Intel.Tests.Engines;

/// <summary>The engine worker over a real clamd (started here): a batch of queued files is scanned many at once.</summary>
public sealed class EngineServiceClamAvTests : IAsyncLifetime
{
    private readonly TempDirectory _files = new("vigil-engine-clamav");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingSink _sink = new();
    private ClamdProcess _clamd = null!;
    private EngineService? _service;

    public async Task InitializeAsync() => _clamd = await ClamdProcess.StartAsync();

    [Fact(Timeout = 120_000)]
    public async Task Step_ManyQueuedFiles_ScannedManyAtOnceEachVerdictItsOwn()
    {
        var service = Create();
        var files = Enumerable.Range(0, 120).Select(i => (Path: Write($"f{i:D3}.bin", Content(i)), Signature: Signature(i))).ToList();
        foreach (var (path, _) in files)
        {
            await service.OnAlertAsync(Fim(path), path, CancellationToken.None);
        }

        await RunUntilIdleAsync(service);

        var found = _sink.Messages.Select(m => JsonDocument.Parse(m.Message).RootElement.GetProperty("clamav"))
            .ToDictionary(c => c.GetProperty("file").GetString()!, c => c.GetProperty("signature").GetString());
        Assert.Equal(files.Where(f => f.Signature is not null).ToDictionary(f => f.Path, f => f.Signature), found);
        Assert.Equal((120L, 0), (service.Status().Scans + service.Status().CacheHits, service.Status().Pending)); // the EICAR files share one content

        // The worker kept several scans in flight on clamd's session, not one file after another.
        var engine = (ClamAvEngine)service.Engine;
        Assert.InRange(engine.Client.PeakInFlight, 2, engine.MaxConcurrentScans);
    }

    [Fact(Timeout = 120_000)]
    public async Task Step_ClamdDown_BatchStaysQueuedThenEveryFileIsJudged()
    {
        var service = Create();
        Assert.False(await service.StepAsync(CancellationToken.None)); // health: up, nothing queued
        await _clamd.KillAsync();
        var files = Enumerable.Range(0, 40).Select(i => (Path: Write($"g{i:D3}.bin", Content(i)), Signature: Signature(i))).ToList();
        foreach (var (path, _) in files)
        {
            await service.OnAlertAsync(Fim(path), path, CancellationToken.None);
        }

        Assert.False(await service.StepAsync(CancellationToken.None));
        Assert.Equal(40, service.Status().Pending); // nothing lost
        Assert.Contains(_sink.Messages, m => m.Message.Contains("\"down\"", StringComparison.Ordinal));

        await _clamd.StartAsync();
        _time.Advance(TimeSpan.FromSeconds(3)); // the next health check is due
        await RunUntilIdleAsync(service);

        var found = _sink.Messages.Where(m => m.Message.Contains("\"clamav\":", StringComparison.Ordinal))
            .Select(m => JsonDocument.Parse(m.Message).RootElement.GetProperty("clamav").GetProperty("file").GetString()!)
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(files.Where(f => f.Signature is not null).Select(f => f.Path).Order(StringComparer.Ordinal).ToList(), found);
        Assert.Equal(0, service.Status().Pending);
    }

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        await _clamd.DisposeAsync();
        _files.Dispose();
    }

    private static async Task RunUntilIdleAsync(EngineService service)
    {
        for (var step = 0; step < 100 && service.Status().Pending > 0; step++)
        {
            await service.StepAsync(CancellationToken.None);
        }
    }

    private EngineService Create()
    {
        var store = EngineStore.Open(_files.Combine("engine.db"));
        var engine = new ClamAvEngine(new ClamAvOptions { ClamdConf = _clamd.ConfPath, Timeout = TimeSpan.FromSeconds(20) });
        _service = new EngineService(engine, new AlertSelector(new IntegrationOptions { Name = EngineSettings.ClamAv }), _sink, store, _time)
        {
            RetroScanOptions = new RetroScanOptions { IsEnabled = false },
        };
        return _service;
    }

    private static byte[] Content(int i) => (i % 3) switch
    {
        0 => Eicar.Bytes,
        1 => Encoding.ASCII.GetBytes($"<?php {ClamdProcess.WebshellMarker}'c{i}']); ?>"),
        _ => Encoding.ASCII.GetBytes($"clean {i}\n"),
    };

    private static string? Signature(int i) => (i % 3) switch
    {
        0 => ClamdProcess.EicarSignature,
        1 => ClamdProcess.WebshellSignature,
        _ => null,
    };

    private string Write(string name, byte[] content)
    {
        var path = _files.Combine(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static string Fim(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return Alerts.Fim(Convert.ToHexStringLower(MD5.HashData(bytes)), Convert.ToHexStringLower(SHA1.HashData(bytes)), Convert.ToHexStringLower(SHA256.HashData(bytes)),
            path: path, agentId: "000", agentName: "host", agentIp: null, size: bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
