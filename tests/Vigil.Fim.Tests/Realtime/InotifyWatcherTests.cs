using Vigil.Core.Configuration;
using Vigil.Fim.Events;

namespace Vigil.Fim.Tests.Realtime;

public sealed class InotifyWatcherTests
{
    [Fact(Timeout = 60_000)]
    public async Task NestedDirectories_FileWrittenRightAfterMkdir_AllCaught()
    {
        await using var fim = await FimHarness.StartAsync();
        var files = new List<string>();
        for (var i = 0; i < 100; i++)
        {
            var dir = Path.Combine(fim.Root, $"d{i}", "a", "b");
            Directory.CreateDirectory(dir);
            var file = Path.Combine(dir, "immediate.txt");
            await File.WriteAllTextAsync(file, $"content {i}");
            files.Add(file);
        }

        await fim.Sink.WaitUntilAsync(() => files.All(f => fim.Sink.For(f).Any(e => e.Type == "added")), TimeSpan.FromSeconds(30), "all nested files");
        await fim.IdleAsync();
        Assert.All(files, f => Assert.Single(fim.Sink.For(f)));
    }

    [Fact(Timeout = 60_000)]
    public async Task WatchedDirectory_RemovedAndRecreated_IsWatchedAgain()
    {
        await using var fim = await FimHarness.StartAsync();
        var sub = Path.Combine(fim.Root, "sub");
        Directory.CreateDirectory(sub);
        var first = Path.Combine(sub, "one.txt");
        await File.WriteAllTextAsync(first, "1");
        await fim.Sink.WaitForAsync(first, "added");

        Directory.Delete(sub, recursive: true);
        await fim.Sink.WaitForAsync(first, "deleted");
        Directory.CreateDirectory(sub);
        await Task.Delay(300);
        var second = Path.Combine(sub, "two.txt");
        await File.WriteAllTextAsync(second, "2");
        await fim.Sink.WaitForAsync(second, "added");

        // The configured root itself, removed and recreated.
        Directory.Delete(fim.Root, recursive: true);
        await fim.Sink.WaitForAsync(second, "deleted");
        Directory.CreateDirectory(fim.Root);
        await Task.Delay(300);
        var third = Path.Combine(fim.Root, "three.txt");
        await File.WriteAllTextAsync(third, "3");
        var added = await fim.Sink.WaitForAsync(third, "added");
        Assert.Equal("realtime", added.Mode);
    }

    [Fact(Timeout = 60_000)]
    public async Task ConfiguredDirectory_CreatedAfterStart_IsPickedUp()
    {
        await using var fim = await FimHarness.StartAsync(
            r => FimHarness.DefaultOptions(Path.Combine(r, "later", "deep")), createRoot: false);
        var target = Path.Combine(fim.Root, "later", "deep");

        Directory.CreateDirectory(target);
        var early = Path.Combine(target, "early.txt");
        await File.WriteAllTextAsync(early, "written with mkdir -p");
        await fim.Sink.WaitForAsync(early, "added");

        var late = Path.Combine(target, "late.txt");
        await File.WriteAllTextAsync(late, "after");
        var added = await fim.Sink.WaitForAsync(late, "added");
        Assert.Equal("realtime", added.Mode);
    }

    [Fact(Timeout = 60_000)]
    public async Task HashQueueFull_FilesStillReportedOnceThroughRescan()
    {
        await using var fim = await FimHarness.StartAsync(
            create: (options, data, sink) => new FimService(options, data, sink) { RealtimeQueueCapacity = 8 });
        var files = Enumerable.Range(0, 3000).Select(i => Path.Combine(fim.Root, $"f{i % 3}", $"{i}.txt")).ToList();
        for (var i = 0; i < 3; i++)
        {
            Directory.CreateDirectory(Path.Combine(fim.Root, $"f{i}"));
        }

        await Task.Delay(300);
        foreach (var file in files)
        {
            await File.WriteAllTextAsync(file, file);
        }

        await fim.Sink.WaitUntilAsync(() => fim.Sink.Events.Count(e => e.Type == "added") >= files.Count, TimeSpan.FromSeconds(40), "3000 added");
        await fim.IdleAsync();
        var added = fim.Sink.Events.Where(e => e.Type == "added").GroupBy(e => e.Path).ToList();
        Assert.Equal(files.Count, added.Count);
        Assert.All(added, g => Assert.Single(g));
    }

    [Fact(Timeout = 60_000)]
    public async Task WatchLimitReached_ReportsDirectoriesLeftToScheduledScans()
    {
        await using var fim = await FimHarness.StartAsync(
            before: root =>
            {
                for (var i = 0; i < 5; i++)
                {
                    Directory.CreateDirectory(Path.Combine(root, $"s{i}"));
                }
            },
            create: (options, data, sink) => new FimService(options, data, sink) { WatchLimit = 3 });

        await fim.Sink.WaitUntilAsync(() => fim.Sink.Logs.Any(l => l.StartsWith(FimMessages.WatchesExhaustedPrefix, StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "exhaustion");
        Assert.Equal(FimMessages.WatchesExhaustedPrefix + fim.Root, Assert.Single(fim.Sink.Logs, l => l.StartsWith("vigil:", StringComparison.Ordinal)));
        Assert.Equal(3, fim.Service.WatchCount);
    }

    [Fact(Timeout = 30_000)]
    public async Task IgnoredDirectories_TakeNoWatch()
    {
        await using var fim = await FimHarness.StartAsync(
            r => FimHarness.DefaultOptions(r) with { Ignore = [new PathFilter(Path.Combine(r, "cache"), false), new PathFilter(".git$", true)] },
            before: root =>
            {
                Directory.CreateDirectory(Path.Combine(root, "cache", "a", "b"));
                Directory.CreateDirectory(Path.Combine(root, "repo", ".git", "objects"));
                Directory.CreateDirectory(Path.Combine(root, "kept"));
            });

        Assert.Equal(3, fim.Service.WatchCount); // root, repo, kept
        var ignored = Path.Combine(fim.Root, "cache", "a", "x.txt");
        var kept = Path.Combine(fim.Root, "kept", "x.txt");
        await File.WriteAllTextAsync(ignored, "x");
        await File.WriteAllTextAsync(kept, "x");
        await fim.Sink.WaitForAsync(kept, "added");
        await fim.IdleAsync();
        Assert.Empty(fim.Sink.For(ignored));
    }

    [Fact(Timeout = 150_000)]
    public async Task Flood_100000FilesFasterThanKernelQueue_EveryFileInBaselineAndAddedOnce()
    {
        const int Total = 100_000;
        const int Directories = 20;
        await using var fim = await FimHarness.StartAsync(before: root =>
        {
            for (var d = 0; d < Directories; d++)
            {
                Directory.CreateDirectory(Path.Combine(root, $"t{d}"));
            }
        });

        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            var payload = new byte[16];
            for (var i = w; i < Total; i += 2)
            {
                BitConverter.TryWriteBytes(payload, i);
                File.WriteAllBytes(Path.Combine(fim.Root, $"t{i % Directories}", $"f{i}"), payload);
            }
        })).ToArray();
        await Task.WhenAll(writers);

        await fim.Sink.WaitUntilAsync(() => fim.Sink.Events.Count >= Total, TimeSpan.FromSeconds(100), "100000 events");
        await fim.IdleAsync();
        var events = fim.Sink.Events;
        Assert.All(events, e => Assert.Equal("added", e.Type));
        Assert.Equal(Total, events.Select(e => e.Path).Distinct().Count());
        Assert.Equal(Total, events.Count);
        Assert.Equal(Total, fim.Service.Writer!.Store.Count);
    }
}
