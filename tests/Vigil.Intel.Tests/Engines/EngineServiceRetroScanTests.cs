using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Vigil.Core.Baseline;
using Vigil.Core.Configuration;
using Vigil.Intel.Engines;
using Vigil.Intel.Selection;
using Vigil.Intel.Yara;
using Vigil.Tests.Common;

namespace Vigil.Intel.Tests.Engines;

/// <summary>The retro-scan over the real YARA engine: a rules change finds a baseline file clean before; it resumes.</summary>
public sealed class EngineServiceRetroScanTests : IAsyncLifetime
{
    private const string DormantRule = """
        rule Vigil_Test_Dormant
        {
            strings:
                $a = "vigil-dormant-payload"
            condition:
                $a
        }
        """;

    private const string UnrelatedRule = "rule Vigil_Test_Unrelated { strings: $a = \"nothing-here-matches\" condition: $a }\n";

    private readonly TempDirectory _rules = new("vigil-retro-rules");
    private readonly TempDirectory _files = new("vigil-retro-files");
    private readonly TempDirectory _state = new("vigil-retro-state");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingSink _sink = new();
    private readonly List<EngineService> _services = [];

    [Fact]
    public async Task RetroStep_RulesEditedToMatchBaselineFile_FindsItNewestFirst()
    {
        var rule = _rules.WriteFile("dormant.yar", UnrelatedRule);
        var dormant = Write("uploads/dormant.php", "<?php // vigil-dormant-" + "payload ?>\n", 2021);
        Write("index.html", "<html></html>\n", 2023);
        var newer = Write("newer.php", "<?php // vigil-dormant-" + "payload again ?>\n", 2025);
        var catalog = new ListCatalog([.. Directory.EnumerateFiles(_files.Path, "*", SearchOption.AllDirectories)]);
        var service = Create(catalog);

        await service.StepAsync(CancellationToken.None); // rules v1: the baseline walked, nothing found
        var first = service.Status().RetroScan!;
        Assert.Equal((3, 3, 0, true), (first.Done, first.Total, first.Found, first.IsFinished));
        Assert.Empty(_sink.Messages);

        File.WriteAllText(rule, DormantRule);
        _time.Advance(TimeSpan.FromSeconds(3));
        await service.StepAsync(CancellationToken.None); // hot reload → v2 → the walk starts over

        var second = service.Status().RetroScan!;
        Assert.NotEqual(first.Version, second.Version);
        Assert.Equal(service.Engine.Version, second.Version);
        Assert.Equal((3, 2, true), (second.Done, second.Found, second.IsFinished));
        Assert.Equal(2, _sink.Messages.Count);
        var found = _sink.Messages.Select(m => JsonDocument.Parse(m.Message).RootElement).ToList();
        Assert.Equal([newer, dormant], found.Select(f => f.GetProperty("yara_scanned_file").GetString()));
        Assert.All(found, f =>
        {
            Assert.Equal("Vigil_Test_Dormant", f.GetProperty("yara_rule").GetString());
            Assert.Equal("retro", f.GetProperty("engine").GetProperty("scan").GetString());
            Assert.Equal("detected", f.GetProperty("engine").GetProperty("status").GetString());
            Assert.Equal(f.GetProperty("yara_scanned_file").GetString(), f.GetProperty("virustotal").GetProperty("source").GetProperty("file").GetString());
        });
        Assert.Equal("vigil-engine", _sink.Messages[0].Location);
    }

    [Fact]
    public async Task RetroStep_StoppedHalfway_RestartContinuesFromCursor()
    {
        _rules.WriteFile("dormant.yar", DormantRule);
        for (var i = 0; i < 5; i++)
        {
            Write($"f{i}.txt", $"file {i}\n", 2020 + i);
        }

        var catalog = new ListCatalog([.. Directory.EnumerateFiles(_files.Path)]);
        var rate = new RetroScanOptions { Rate = 2 };
        var service = Create(catalog, rate);
        await service.StepAsync(CancellationToken.None);
        Assert.Equal((2, 5, false), (service.Status().RetroScan!.Done, service.Status().RetroScan!.Total, service.Status().RetroScan!.IsFinished));
        Assert.Equal(_files.Combine("f3.txt"), service.Status().RetroScan!.Cursor!.Value.Path);
        await service.DisposeAsync();
        _services.Remove(service);

        var restarted = Create(catalog, rate);
        Assert.Equal(2, restarted.Status().RetroScan!.Done); // read back from the store
        await restarted.StepAsync(CancellationToken.None);
        Assert.Equal((4, 2L), (restarted.Status().RetroScan!.Done, restarted.Status().Scans));
        _time.Advance(TimeSpan.FromSeconds(2));
        await restarted.StepAsync(CancellationToken.None);

        var done = restarted.Status().RetroScan!;
        Assert.Equal((5, 5, true), (done.Done, done.Total, done.IsFinished));
        Assert.Equal(3L, restarted.Status().Scans); // f2, f1, f0: not from scratch
        Assert.Empty(_sink.Messages);
    }

    [Fact]
    public async Task RetroStep_Throttled_NoSecondBatchBeforeItsTime()
    {
        _rules.WriteFile("dormant.yar", DormantRule);
        for (var i = 0; i < 6; i++)
        {
            Write($"f{i}.txt", $"file {i}\n", 2020 + i);
        }

        var service = Create(new ListCatalog([.. Directory.EnumerateFiles(_files.Path)]), new RetroScanOptions { Rate = 2 });
        await service.StepAsync(CancellationToken.None);
        await service.StepAsync(CancellationToken.None);
        Assert.Equal(2, service.Status().RetroScan!.Done);

        _time.Advance(TimeSpan.FromSeconds(1));
        await service.StepAsync(CancellationToken.None);
        Assert.Equal(4, service.Status().RetroScan!.Done);
    }

    [Fact]
    public async Task RetroStep_Disabled_NothingScanned()
    {
        _rules.WriteFile("dormant.yar", DormantRule);
        Write("dormant.php", "vigil-dormant-" + "payload\n", 2024);
        var service = Create(new ListCatalog([.. Directory.EnumerateFiles(_files.Path)]), new RetroScanOptions { IsEnabled = false });

        await service.StepAsync(CancellationToken.None);

        Assert.Null(service.Status().RetroScan);
        Assert.Empty(_sink.Messages);
    }

    [Fact]
    public async Task RealtimeThenRetro_SameFile_OneDetection()
    {
        _rules.WriteFile("dormant.yar", DormantRule);
        var shell = Write("shell.php", "<?php // vigil-dormant-" + "payload ?>\n", 2026);
        var service = Create(new ListCatalog([shell]), new RetroScanOptions { Rate = 1000 });

        await service.OnAlertAsync(Fim(shell), "k1", CancellationToken.None);
        await service.StepAsync(CancellationToken.None); // the realtime file first, then the walk meets it again
        await service.StepAsync(CancellationToken.None);

        Assert.True(service.Status().RetroScan!.IsFinished);
        var message = Assert.Single(_sink.Messages);
        Assert.False(IsRetro(message.Message)); // said by the realtime scan, not again by the walk
    }

    [Fact]
    public async Task RetroThenRealtime_SameFile_OneDetection_ButARecreatedFileIsNew()
    {
        _rules.WriteFile("dormant.yar", DormantRule);
        var shell = Write("shell.php", "<?php // vigil-dormant-" + "payload ?>\n", 2026);
        var service = Create(new ListCatalog([shell]), new RetroScanOptions { Rate = 1000 });

        await service.StepAsync(CancellationToken.None); // the walk finds it before its FIM alert arrives
        Assert.Single(_sink.Messages);
        await service.OnAlertAsync(Fim(shell), "k1", CancellationToken.None);
        await service.StepAsync(CancellationToken.None);
        Assert.Single(_sink.Messages); // the same file, judged once

        File.Delete(shell); // removed, and the same content written again: a new file, a new detection
        Write("shell.php", "<?php // vigil-dormant-" + "payload ?>\n", 2026);
        await service.OnAlertAsync(Fim(shell), "k2", CancellationToken.None);
        await service.StepAsync(CancellationToken.None);
        Assert.Equal(2, _sink.Messages.Count);
        Assert.Equal([true, false], _sink.Messages.Select(m => IsRetro(m.Message)));
    }

    [Fact]
    public async Task RetroThenRealtime_OversizedFile_RealtimeStillSaysItWasNotScanned()
    {
        // The walk says only detections: its "not scanned" for a file over the size limit is silent, so the realtime
        // alert that follows for the same file must still say it (the walk meeting the newest file first is common).
        _rules.WriteFile("dormant.yar", DormantRule);
        var big = Write("big.php", "<?php // vigil-dormant-" + "payload ?>\n" + new string('#', 8192), 2026);
        var service = Create(new ListCatalog([big]), new RetroScanOptions { Rate = 1000 }, maxFileSize: 4096);

        await service.StepAsync(CancellationToken.None); // the walk reaches it before its FIM alert arrives
        Assert.True(service.Status().RetroScan!.IsFinished);
        Assert.Empty(_sink.Messages);
        await service.OnAlertAsync(Fim(big), "k1", CancellationToken.None);
        await service.StepAsync(CancellationToken.None);

        var message = Assert.Single(_sink.Messages);
        Assert.False(IsRetro(message.Message));
        var engine = JsonDocument.Parse(message.Message).RootElement.GetProperty("engine");
        Assert.Equal("skipped", engine.GetProperty("status").GetString());
        Assert.Contains("over the YARA size limit", engine.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static bool IsRetro(string message) =>
        JsonDocument.Parse(message).RootElement.GetProperty("engine").TryGetProperty("scan", out var scan) && scan.GetString() == "retro";

    private static string Fim(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return Alerts.Fim(Convert.ToHexStringLower(MD5.HashData(bytes)), Convert.ToHexStringLower(SHA1.HashData(bytes)), Convert.ToHexStringLower(SHA256.HashData(bytes)),
            path: path, agentId: "000", agentName: "host", agentIp: null, size: bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private EngineService Create(IBaselineCatalog catalog, RetroScanOptions? options = null, long? maxFileSize = null)
    {
        var store = EngineStore.Open(_state.Combine("engine.db"));
        var yara = maxFileSize is { } limit ? new YaraOptions { Rules = [_rules.Path], MaxFileSize = limit } : new YaraOptions { Rules = [_rules.Path] };
        var service = new EngineService(new YaraEngine(yara), new AlertSelector(new IntegrationOptions { Name = EngineSettings.Yara }), _sink, store, _time)
        {
            RetroScanOptions = options ?? new RetroScanOptions(),
        };
        service.AttachBaseline(catalog);
        _services.Add(service);
        return service;
    }

    private string Write(string name, string content, int year)
    {
        var path = _files.Combine(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        File.SetLastWriteTimeUtc(path, new DateTime(year, 6, 1, 0, 0, 0, DateTimeKind.Utc));
        return path;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }

        _rules.Dispose();
        _files.Dispose();
        _state.Dispose();
    }

    /// <summary>A baseline of the given files with their mtimes now, in the catalog's order.</summary>
    private sealed class ListCatalog(IReadOnlyList<string> paths) : IBaselineCatalog
    {
        private readonly List<BaselineFile> _files = [.. paths
            .Select(p => new BaselineFile(p, new DateTimeOffset(File.GetLastWriteTimeUtc(p)).ToUnixTimeSeconds()))
            .OrderByDescending(f => f.Mtime).ThenBy(f => f.Path, StringComparer.Ordinal)];

        public bool IsReady => true;

        public int Count() => _files.Count;

        public IReadOnlyList<BaselineFile> NewestFirst(BaselineFile? after, int limit) =>
            [.. _files.SkipWhile(f => after is { } a && (f.Mtime > a.Mtime || (f.Mtime == a.Mtime && string.CompareOrdinal(f.Path, a.Path) <= 0))).Take(limit)];
    }
}
