using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Vigil.Core.Baseline;
using Vigil.Core.Configuration;
using Vigil.Intel.Engines;
using Vigil.Intel.Selection;
using Vigil.Intel.Yara;
using Vigil.Tests.Common;

namespace Vigil.Cli.Tests;

/// <summary>`vigil status`: each engine's version, state, retro-scan progress and last error, read from its store.</summary>
public sealed class StatusCommandTests
{
    [Fact]
    public async Task Status_EngineMidRetroScan_ShowsVersionStateAndProgress()
    {
        using var temp = new TempDirectory("vigil-cli-status");
        temp.WriteFile("rules/web.yar", "rule Vigil_Status_Test { strings: $a = \"vigil-status-\" \"marker\" condition: $a }\n".Replace("\" \"", "", StringComparison.Ordinal));
        var files = Enumerable.Range(0, 3).Select(i => temp.WriteFile($"files/f{i}.txt", $"file {i}\n")).ToList();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        var store = EngineStore.Open(temp.Combine("data", "intel", "custom-vigil-yara.db"));
        string version;
        await using (var service = new EngineService(new YaraEngine(new YaraOptions { Rules = [temp.Combine("rules")] }), new AlertSelector(new IntegrationOptions { Name = EngineSettings.Yara }), new NullSink(), store, time)
        {
            RetroScanOptions = new RetroScanOptions { Rate = 2 },
        })
        {
            service.AttachBaseline(new Catalog([.. files.Select(f => new BaselineFile(f, 1))]));
            await service.StepAsync(CancellationToken.None);
            service.SaveStatus();
            version = service.Engine.Version!;
        }

        var (code, output) = await RunAsync("status", "--data-dir", temp.Combine("data"));
        var (jsonCode, json) = await RunAsync("status", "--json", "--data-dir", temp.Combine("data"));
        var (emptyCode, empty) = await RunAsync("status", "--data-dir", temp.Combine("nothing"));

        Assert.Equal((0, 0, 0), (code, jsonCode, emptyCode));
        var line = output.Split('\n').Single(l => l.StartsWith("custom-vigil-yara", StringComparison.Ordinal));
        Assert.Matches(@"custom-vigil-yara\s+yara\s+up\s+" + version[..12] + @"\s+2/3, 0 found\s+0\s+-", line);
        using var document = JsonDocument.Parse(json);
        var engine = Assert.Single(document.RootElement.GetProperty("engines").EnumerateArray().ToList());
        Assert.Equal(version, engine.GetProperty("version").GetString());
        Assert.Equal((2, 3), (engine.GetProperty("retro_done").GetInt32(), engine.GetProperty("retro_total").GetInt32()));
        Assert.Contains("no detection engine", empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_FimBaseline_SaysReadyOrScannedOfExpected()
    {
        using var temp = new TempDirectory("vigil-cli-status-fim");
        var updated = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        Directory.CreateDirectory(temp.Combine("scanning", "fim"));
        Directory.CreateDirectory(temp.Combine("ready", "fim"));
        Fim.FimStatusFile.Write(temp.Combine("scanning", "fim"), new Fim.FimProgress(false, true, 1200, 5000, 900, updated));
        Fim.FimStatusFile.Write(temp.Combine("ready", "fim"), new Fim.FimProgress(true, false, 5000, 5000, 5003, updated));

        var (_, scanning) = await RunAsync("status", "--data-dir", temp.Combine("scanning"));
        var (_, ready) = await RunAsync("status", "--data-dir", temp.Combine("ready"));
        var (_, none) = await RunAsync("status", "--data-dir", temp.Combine("nothing"));
        var (_, json) = await RunAsync("status", "--json", "--data-dir", temp.Combine("scanning"));

        Assert.StartsWith("FIM: baseline not ready: first scan since start, 1,200 of about 5,000 files scanned", scanning, StringComparison.Ordinal);
        Assert.StartsWith("FIM: baseline ready, 5,003 files", ready, StringComparison.Ordinal);
        Assert.StartsWith("FIM: no baseline with this data directory", none, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json);
        var fim = document.RootElement.GetProperty("fim");
        Assert.Equal((false, 1200, 5000), (fim.GetProperty("is_ready").GetBoolean(), fim.GetProperty("files_scanned").GetInt64(), fim.GetProperty("expected").GetInt32()));
    }

    private static async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var code = await VigilCommandLine.Build().Parse(args).InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = new StringWriter() });
        return (code, output.ToString());
    }

    private sealed class NullSink : Vigil.Core.Events.IEventSink
    {
        public ValueTask PublishAsync(Vigil.Core.Events.EventMessage message, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    private sealed class Catalog(IReadOnlyList<BaselineFile> files) : IBaselineCatalog
    {
        public bool IsReady => true;

        public int Count() => files.Count;

        public IReadOnlyList<BaselineFile> NewestFirst(BaselineFile? after, int limit) =>
            [.. files.SkipWhile(f => after is { } a && string.CompareOrdinal(f.Path, a.Path) <= 0).Take(limit)];
    }
}
