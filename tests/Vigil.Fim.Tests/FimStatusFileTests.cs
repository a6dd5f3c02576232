using Microsoft.Win32.SafeHandles;
using Vigil.Fim.Scanning;

namespace Vigil.Fim.Tests;

/// <summary>FIM's progress file, which `vigil status` reads from another process.</summary>
public sealed class FimStatusFileTests
{
    [Fact(Timeout = 60_000)]
    public async Task StatusFile_FirstScanThenRestart_ReadyWithTheBaselineAndTheExpectedCount()
    {
        await using var fim = await FimHarness.StartAsync(
            r => FimHarness.DefaultOptions(r, realtime: false),
            before: root =>
            {
                for (var i = 0; i < 5; i++)
                {
                    File.WriteAllText(Path.Combine(root, $"f{i}.txt"), $"file {i}\n");
                }
            });

        var first = await ReadyAsync(fim.Data);
        await fim.RestartAsync();
        var second = await ReadyAsync(fim.Data, after: first.Updated);

        Assert.Equal((true, false, 5, 0, 5), (first.IsReady, first.IsScanning, first.FilesScanned, first.Expected, first.Entries));
        Assert.Equal((true, 5, 5), (second.IsReady, second.Expected, second.Entries));
    }

    [Fact(Timeout = 60_000)]
    public async Task StatusFile_FirstScanUnderWay_NotReadyWithTheFilesScannedSoFar()
    {
        using var temp = new TempDir();
        var root = temp.Combine("watched");
        Directory.CreateDirectory(root);
        for (var i = 0; i < 5; i++)
        {
            File.WriteAllText(Path.Combine(root, $"f{i}.txt"), $"file {i}\n");
        }

        File.WriteAllText(Path.Combine(root, "held.txt"), "held\n");
        using var gate = new HeldOpener("held.txt");
        var data = temp.Combine("data");
        var service = new FimService(FimHarness.DefaultOptions(root, realtime: false), data, new CollectingSink())
        {
            FileOpener = gate,
            StatusInterval = TimeSpan.FromMilliseconds(50),
        };
        try
        {
            await service.StartAsync(CancellationToken.None);
            var during = await PollAsync(data, p => p is { IsReady: false, IsScanning: true, FilesScanned: 5 });
            Assert.False(service.InitialScan.IsCompleted);
            gate.Release();
            var after = await PollAsync(data, p => p.IsReady);

            Assert.Equal(0, during.Expected); // a first scan cannot know how many files there are
            Assert.Equal((true, false, 6, 6), (after.IsReady, after.IsScanning, after.FilesScanned, after.Entries));
        }
        finally
        {
            gate.Release();
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void TryRead_MissingOrBroken_Null()
    {
        using var temp = new TempDir();
        Directory.CreateDirectory(temp.Combine("broken"));
        File.WriteAllText(FimStatusFile.PathIn(temp.Combine("broken")), "{ not json");

        Assert.Null(FimStatusFile.TryRead(temp.Combine("none")));
        Assert.Null(FimStatusFile.TryRead(temp.Combine("broken")));
    }

    private static async Task<FimProgress> PollAsync(string data, Func<FimProgress, bool> condition)
    {
        FimProgress? last = null;
        for (var i = 0; i < 400; i++)
        {
            if ((last = FimStatusFile.TryRead(data)) is { } progress && condition(progress))
            {
                return progress;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{FimStatusFile.PathIn(data)} never matched; last: {last}");
    }

    // Holds the scan's open of one file until released (bounded, so a broken test cannot hang the run).
    private sealed class HeldOpener(string name) : IFileOpener, IDisposable
    {
        private readonly ManualResetEventSlim _released = new();

        public SafeFileHandle Open(string path, bool followSymbolicLink)
        {
            if (Path.GetFileName(path) == name)
            {
                _released.Wait(TimeSpan.FromSeconds(30));
            }

            return DefaultFileOpener.Instance.Open(path, followSymbolicLink);
        }

        public void Release() => _released.Set();

        public void Dispose() => _released.Dispose();
    }

    // Bounded polling: the service writes the file when its first scan is applied.
    private static async Task<FimProgress> ReadyAsync(string data, DateTimeOffset? after = null)
    {
        for (var i = 0; i < 400; i++)
        {
            if (FimStatusFile.TryRead(data) is { IsReady: true } progress && (after is null || progress.Updated > after || progress.Expected > 0))
            {
                return progress;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"no ready status in {FimStatusFile.PathIn(data)}");
    }
}
