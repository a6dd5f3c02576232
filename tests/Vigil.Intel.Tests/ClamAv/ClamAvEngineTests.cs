using System.Text;
using Vigil.Core;
using Vigil.Intel.ClamAv;
using Vigil.Intel.Engines;
using Vigil.Intel.Files;
using Vigil.Tests.Common;

namespace Vigil.Intel.Tests.ClamAv;

/// <summary>The ClamAV engine against a real clamd started here with a signature database written here.</summary>
public sealed class ClamAvEngineTests : IAsyncLifetime
{
    private readonly TempDirectory _files = new("vigil-clamav-files");
    private ClamdProcess _clamd = null!;

    public async Task InitializeAsync() => _clamd = await ClamdProcess.StartAsync(streamMaxLength: 4096);

    public async Task DisposeAsync()
    {
        await _clamd.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task ScanAsync_UnixSocket_PassesDescriptorAndDetects()
    {
        var engine = new ClamAvEngine(new ClamAvOptions { ClamdConf = _clamd.ConfPath });
        Assert.True(engine.Endpoint.IsUnix);
        Assert.Equal(ClamAvHealth.Up, await engine.CheckAsync(CancellationToken.None));
        Assert.StartsWith("ClamAV 1.", engine.Version, StringComparison.Ordinal);

        var eicar = await ScanAsync(engine, Write("eicar.com", Eicar.Bytes));
        var shell = await ScanAsync(engine, Write("shell.php", Encoding.ASCII.GetBytes("<?php " + ClamdProcess.WebshellMarker + "'c']); ?>")));
        var clean = await ScanAsync(engine, Write("clean.txt", Encoding.ASCII.GetBytes("hello\n")));

        Assert.Equal((EngineOutcome.Detected, ClamdProcess.EicarSignature), (eicar.Outcome, eicar.Name));
        Assert.Equal((EngineOutcome.Detected, ClamdProcess.WebshellSignature), (shell.Outcome, shell.Name));
        Assert.Equal(EngineOutcome.Clean, clean.Outcome);
        Assert.Equal(engine.Version, eicar.Version);
    }

    [Fact]
    public async Task ScanAsync_Tcp_StreamsAndSkipsOverStreamMaxLength()
    {
        var engine = new ClamAvEngine(new ClamAvOptions { Tcp = $"127.0.0.1:{_clamd.Port}", StreamMaxLength = 4096 });
        Assert.False(engine.Endpoint.IsUnix);

        var eicar = await ScanAsync(engine, Write("eicar.com", Eicar.Bytes));
        var big = await ScanAsync(engine, Write("big.bin", new byte[8192]));

        Assert.Equal((EngineOutcome.Detected, ClamdProcess.EicarSignature), (eicar.Outcome, eicar.Name));
        Assert.Equal(EngineOutcome.Skipped, big.Outcome);
        Assert.Contains("StreamMaxLength of 4096 bytes", big.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScanAsync_ClamdStoppedThenBack_UnavailableThenDetects()
    {
        var engine = new ClamAvEngine(new ClamAvOptions { Socket = _clamd.SocketPath, Timeout = TimeSpan.FromSeconds(5) });
        var eicar = Write("eicar.com", Eicar.Bytes);
        Assert.Equal(EngineOutcome.Detected, (await ScanAsync(engine, eicar)).Outcome);

        await _clamd.StopAsync();
        var down = await ScanAsync(engine, eicar);
        Assert.Equal(EngineOutcome.Unavailable, down.Outcome);
        Assert.Contains(_clamd.SocketPath, down.Detail, StringComparison.Ordinal);
        Assert.Equal(ClamAvHealth.Down, engine.Health);

        await _clamd.StartAsync();
        Assert.Equal(ClamAvHealth.Up, await engine.CheckAsync(CancellationToken.None));
        Assert.Equal(EngineOutcome.Detected, (await ScanAsync(engine, eicar)).Outcome);
    }

    [Fact]
    public async Task ScanAsync_ManyFilesAtOnceOverKeptSessions_EachVerdictIsItsOwnFiles()
    {
        using var engine = new ClamAvEngine(new ClamAvOptions { Socket = _clamd.SocketPath, Timeout = TimeSpan.FromSeconds(20) });
        var files = Enumerable.Range(0, 60)
            .Select(i => (Path: Write($"f{i}.bin", i % 3 == 0 ? Eicar.Bytes : Encoding.ASCII.GetBytes($"clean {i}\n")), IsEicar: i % 3 == 0))
            .ToList();

        var results = new EngineResult[files.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), new ParallelOptions { MaxDegreeOfParallelism = 6 }, async (i, _) =>
            results[i] = await ScanAsync(engine, files[i].Path));

        for (var i = 0; i < files.Count; i++)
        {
            Assert.Equal(files[i].IsEicar ? EngineOutcome.Detected : EngineOutcome.Clean, results[i].Outcome);
        }
    }

    [Fact]
    public async Task ScanAsync_ClamdRestartedBetweenScans_KeptSessionReplacedAndScanAnswered()
    {
        using var engine = new ClamAvEngine(new ClamAvOptions { Socket = _clamd.SocketPath, Timeout = TimeSpan.FromSeconds(10) });
        var eicar = Write("eicar.com", Eicar.Bytes);
        Assert.Equal(EngineOutcome.Detected, (await ScanAsync(engine, eicar)).Outcome);

        await _clamd.StopAsync();
        await _clamd.StartAsync();

        Assert.Equal(EngineOutcome.Detected, (await ScanAsync(engine, eicar)).Outcome); // the kept session is dead: one new one
        Assert.Equal(ClamAvHealth.Up, engine.Health);
    }

    [Fact]
    public async Task CheckAsync_DatabaseEmptied_NoDatabase()
    {
        var engine = new ClamAvEngine(new ClamAvOptions { ClamdConf = _clamd.ConfPath });
        Assert.Equal(ClamAvHealth.Up, await engine.CheckAsync(CancellationToken.None));
        var before = engine.Version;

        foreach (var file in Directory.GetFiles(_clamd.DatabaseDirectory))
        {
            File.Delete(file);
        }

        Assert.Equal(ClamAvHealth.NoDatabase, await engine.CheckAsync(CancellationToken.None));
        Assert.Contains("no signature files", engine.Problem, StringComparison.Ordinal);
        Assert.NotEqual(before, engine.Version);
    }

    private string Write(string name, byte[] content)
    {
        var path = _files.Combine(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static async Task<EngineResult> ScanAsync(IFileEngine engine, string path)
    {
        await using var stream = RegularFile.TryOpen(path, out var error) ?? throw new InvalidOperationException(error);
        return await engine.ScanAsync(stream, CancellationToken.None);
    }
}
