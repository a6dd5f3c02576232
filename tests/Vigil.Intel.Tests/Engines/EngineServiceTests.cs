using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Vigil.Core.Configuration;
using Vigil.Intel.Engines;
using Vigil.Intel.Selection;
using Vigil.Intel.Tests.Yara;
using Vigil.Intel.Yara;
using Vigil.Tests.Common;

namespace Vigil.Intel.Tests.Engines;

/// <summary>The engine worker over the real YARA engine: queue, verdict cache by sha256 and version, reload alerts.</summary>
public sealed class EngineServiceTests : IAsyncLifetime
{
    private readonly TempDirectory _rules = new("vigil-engine-rules");
    private readonly TempDirectory _files = new("vigil-engine-files");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly RecordingSink _sink = new();
    private EngineService? _service;

    [Fact]
    public async Task Step_SameContentTwice_ScannedOnceUntilRulesChange()
    {
        var rule = _rules.WriteFile("web.yar", YaraEngineTests.WebshellRule);
        var service = Create(new YaraOptions { Rules = [_rules.Path] });
        var first = Write("a.php", YaraEngineTests.WebshellSample);
        var second = Write("b.php", YaraEngineTests.WebshellSample);

        await service.OnAlertAsync(Fim(first), "k1", CancellationToken.None);
        await service.OnAlertAsync(Fim(second), "k2", CancellationToken.None);
        await service.OnAlertAsync(Fim(second), "k2", CancellationToken.None); // handed again after a crash: queued once
        await service.StepAsync(CancellationToken.None);

        Assert.Equal(2, _sink.Messages.Count);
        Assert.Equal((1L, 1L, 0), (service.Status().Scans, service.Status().CacheHits, service.Status().Pending));
        using var message = JsonDocument.Parse(_sink.Messages[0].Message);
        var root = message.RootElement;
        Assert.Equal("Vigil_Test_Webshell", root.GetProperty("yara_rule").GetString());
        Assert.Equal(first, root.GetProperty("yara_scanned_file").GetString());
        Assert.Equal("detected", root.GetProperty("engine").GetProperty("status").GetString());
        Assert.Equal(service.Engine.Version, root.GetProperty("engine").GetProperty("version").GetString());
        Assert.Equal(Sha256(YaraEngineTests.WebshellSample), root.GetProperty("vigil").GetProperty("source").GetProperty("sha256").GetString());
        Assert.Equal(first, root.GetProperty("virustotal").GetProperty("source").GetProperty("file").GetString());

        // New rules: a new version, so the cached verdict no longer answers.
        File.WriteAllText(rule, YaraEngineTests.WebshellRule.Replace("Vigil_Test_Webshell", "Vigil_Test_Webshell_2", StringComparison.Ordinal) + "\n");
        _time.Advance(TimeSpan.FromSeconds(3));
        await service.OnAlertAsync(Fim(first), "k3", CancellationToken.None);
        await service.StepAsync(CancellationToken.None);

        Assert.Equal(2, service.Status().Scans);
        using var third = JsonDocument.Parse(_sink.Messages[^1].Message);
        Assert.Equal("Vigil_Test_Webshell_2", third.RootElement.GetProperty("yara_rule").GetString());
    }

    [Fact]
    public async Task Step_ManyFilesOfOneContentAtOnce_ScannedOnce()
    {
        // The real YARA engine behind a scan that takes a while (as a clamd scan does): the scans of a batch overlap.
        _rules.WriteFile("web.yar", YaraEngineTests.WebshellRule);
        var yara = new YaraEngine(new YaraOptions { Rules = [_rules.Path], MaxConcurrentScans = 4 });
        Assert.NotNull(yara.Reload().Version);
        using var slow = new SlowEngine(yara);
        var service = _service = new EngineService(slow, new AlertSelector(new IntegrationOptions { Name = EngineSettings.Yara }), _sink,
            EngineStore.Open(_files.Combine("engine.db")), _time);
        for (var round = 0; round < 5; round++)
        {
            // A new content each round, in eight files judged together (four scans at once).
            var content = YaraEngineTests.WebshellSample + "// " + round + "\n";
            for (var i = 0; i < 8; i++)
            {
                await service.OnAlertAsync(Fim(Write($"r{round}-{i}.php", content)), $"k{round}-{i}", CancellationToken.None);
            }

            await service.StepAsync(CancellationToken.None);
        }

        Assert.Equal((5L, 35L, 0), (service.Status().Scans, service.Status().CacheHits, service.Status().Pending));
        Assert.Equal(5, slow.Scans);
        Assert.Equal(40, _sink.Messages.Count(m => m.Message.Contains("Vigil_Test_Webshell", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Step_NoRulesCompile_FilesWaitAndOneReloadError()
    {
        var rule = _rules.WriteFile("web.yar", "rule Broken\n{\n    condition:\n        $x\n}\n");
        var service = Create(new YaraOptions { Rules = [_rules.Path] });
        var shell = Write("a.php", YaraEngineTests.WebshellSample);
        await service.OnAlertAsync(Fim(shell), "k1", CancellationToken.None);

        await service.StepAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(3));
        await service.StepAsync(CancellationToken.None);

        var error = Assert.Single(_sink.Messages);
        using var document = JsonDocument.Parse(error.Message);
        var engine = document.RootElement.GetProperty("engine");
        Assert.Equal("reload_error", engine.GetProperty("status").GetString());
        Assert.Contains($"{rule}:", engine.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("files wait", engine.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, service.Status().Pending);
        Assert.Equal("down", service.Status().State); // `vigil status` and the dashboard must not say "up"
        Assert.Contains($"{rule}:", service.Status().Problem, StringComparison.Ordinal);

        File.WriteAllText(rule, YaraEngineTests.WebshellRule);
        _time.Advance(TimeSpan.FromSeconds(3));
        await service.StepAsync(CancellationToken.None);

        Assert.Equal(0, service.Status().Pending);
        Assert.Equal(("up", null), (service.Status().State, service.Status().Problem));

        // A broken edit of rules in force: the previous rules go on scanning, and the state says the edit failed.
        File.WriteAllText(rule, "rule Broken\n{\n    condition:\n        $y\n}\n");
        _time.Advance(TimeSpan.FromSeconds(3));
        await service.StepAsync(CancellationToken.None);
        Assert.Equal("reload_error", service.Status().State);
        Assert.NotNull(service.Status().Version);
        Assert.Contains(_sink.Messages, m => m.Message.Contains("\"yara_rule\": \"Vigil_Test_Webshell\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Step_SymlinkInPlaceOfFile_NeverScanned()
    {
        _rules.WriteFile("web.yar", YaraEngineTests.WebshellRule);
        var service = Create(new YaraOptions { Rules = [_rules.Path] });
        var target = Write("outside.php", YaraEngineTests.WebshellSample);
        var link = _files.Combine("link.php");
        File.CreateSymbolicLink(link, target);

        await service.OnAlertAsync(Fim(link, Sha256(YaraEngineTests.WebshellSample)), "k1", CancellationToken.None);
        await service.StepAsync(CancellationToken.None);

        Assert.Empty(_sink.Messages);
        Assert.Equal((0L, 0), (service.Status().Scans, service.Status().Pending));
    }

    /// <remarks>
    /// A watched subdirectory swapped, after its file's event, for a symlink to a directory holding a matching file of
    /// the same name: the last component is no symlink, so O_NOFOLLOW alone would read the file through the link.
    /// </remarks>
    [Fact]
    public async Task Step_DirectoryInPathSwappedForSymlink_NeverScannedThroughAndSaidSo()
    {
        _rules.WriteFile("web.yar", YaraEngineTests.WebshellRule);
        var log = new StringWriter();
        var service = Create(new YaraOptions { Rules = [_rules.Path] }, new WriterLogger(log));
        Directory.CreateDirectory(_files.Combine("watched", "sub"));
        var path = Write(Path.Combine("watched", "sub", "a.php"), "clean\n");
        await service.OnAlertAsync(Fim(path), "k1", CancellationToken.None);

        Directory.CreateDirectory(_files.Combine("elsewhere"));
        File.WriteAllText(_files.Combine("elsewhere", "a.php"), YaraEngineTests.WebshellSample);
        Directory.Move(_files.Combine("watched", "sub"), _files.Combine("watched", "sub-old"));
        Directory.CreateSymbolicLink(_files.Combine("watched", "sub"), _files.Combine("elsewhere"));
        Assert.Equal(YaraEngineTests.WebshellSample, File.ReadAllText(path)); // by path, the swap leads to the match
        await service.StepAsync(CancellationToken.None);

        Assert.DoesNotContain(_sink.Messages, m => m.Message.Contains("Vigil_Test_Webshell", StringComparison.Ordinal));
        Assert.Equal((0L, 0), (service.Status().Scans, service.Status().Pending));
        Assert.Contains($"{path} not scanned by yara: a directory in its path is a symbolic link ({_files.Combine("watched", "sub")}, not followed)", log.ToString(), StringComparison.Ordinal);
    }

    private EngineService Create(YaraOptions options, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        var store = EngineStore.Open(_files.Combine("engine.db"));
        _service = new EngineService(new YaraEngine(options), new AlertSelector(new IntegrationOptions { Name = EngineSettings.Yara }), _sink, store, _time, logger);
        return _service;
    }

    private string Write(string name, string content)
    {
        var path = _files.Combine(name);
        File.WriteAllText(path, content);
        return path;
    }

    private static string Sha256(string content) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));

    private static string Fim(string path, string? sha256 = null)
    {
        var bytes = File.Exists(path) ? File.ReadAllBytes(path) : [];
        return Alerts.Fim(Convert.ToHexStringLower(MD5.HashData(bytes)), Convert.ToHexStringLower(SHA1.HashData(bytes)), sha256 ?? Convert.ToHexStringLower(SHA256.HashData(bytes)),
            path: path, agentId: "000", agentName: "host", agentIp: null, size: bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        _rules.Dispose();
        _files.Dispose();
    }

    /// <summary>An engine whose every scan waits 50 ms before the real engine scans.</summary>
    private sealed class SlowEngine(YaraEngine inner) : IFileEngine, IDisposable
    {
        private int _scans;

        public int Scans => _scans;

        public string Name => inner.Name;

        public string? Version => inner.Version;

        public int MaxConcurrentScans => inner.MaxConcurrentScans;

        public async Task<EngineResult> ScanAsync(FileStream file, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _scans);
            await Task.Delay(50, cancellationToken);
            return await inner.ScanAsync(file, cancellationToken);
        }

        public void Dispose() => inner.Dispose();
    }
}
