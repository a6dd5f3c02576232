using Microsoft.Win32.SafeHandles;
using Vigil.Core.Configuration;
using Vigil.Fim.Events;
using Vigil.Fim.Scanning;

namespace Vigil.Fim.Tests.Scanning;

public sealed class ScannerTests
{
    [Fact(Timeout = 30_000)]
    public async Task ScheduledScan_AddModifyDelete_ReportsEachWithDeletionsAtEnd()
    {
        await using var fim = await FimHarness.StartAsync(r => FimHarness.DefaultOptions(r, realtime: false), before: root =>
        {
            File.WriteAllText(Path.Combine(root, "a"), "a");
            File.WriteAllText(Path.Combine(root, "b"), "b");
        });
        File.WriteAllText(Path.Combine(fim.Root, "a"), "changed");
        File.Delete(Path.Combine(fim.Root, "b"));
        Directory.CreateDirectory(Path.Combine(fim.Root, "sub"));
        File.WriteAllText(Path.Combine(fim.Root, "sub", "c"), "c");

        await fim.Service.ScanAsync(CancellationToken.None);
        await fim.IdleAsync();

        var events = fim.Sink.Events;
        Assert.Equal(3, events.Count);
        Assert.All(events, e => Assert.Equal("scheduled", e.Mode));
        Assert.Equal("modified", Assert.Single(fim.Sink.For(Path.Combine(fim.Root, "a"))).Type);
        Assert.Equal("added", Assert.Single(fim.Sink.For(Path.Combine(fim.Root, "sub", "c"))).Type);
        Assert.Equal("deleted", events[^1].Type); // deletions come at the end of the scan
    }

    [Fact(Timeout = 30_000)]
    public async Task Scan_IgnoreRestrictAndRecursionLevel_OnlyInScopeFilesRecorded()
    {
        await using var fim = await FimHarness.StartAsync(r => FimHarness.DefaultOptions(r, realtime: false, d => d with { Restrict = ".conf$|^/never", RecursionLevel = 1 }) with
        {
            Ignore = [new PathFilter(Path.Combine(r, "SKIP"), false), new PathFilter(".swp$", true)],
        });
        Directory.CreateDirectory(Path.Combine(fim.Root, "one", "two"));
        Directory.CreateDirectory(Path.Combine(fim.Root, "skipme"));
        string[] recorded = [Path.Combine(fim.Root, "a.conf"), Path.Combine(fim.Root, "one", "b.conf")];
        string[] notRecorded =
        [
            Path.Combine(fim.Root, "a.txt"), // restrict
            Path.Combine(fim.Root, "one", "two", "c.conf"), // recursion_level 1
            Path.Combine(fim.Root, "skipme", "d.conf"), // ignore is a case-insensitive prefix
            Path.Combine(fim.Root, "skip.conf"), // ... that also covers this name
            Path.Combine(fim.Root, "x.conf.swp"), // sregex
        ];
        foreach (var path in recorded.Concat(notRecorded))
        {
            await File.WriteAllTextAsync(path, path);
        }

        await fim.Service.ScanAsync(CancellationToken.None);
        await fim.IdleAsync();

        Assert.Equal(recorded.Order(), fim.Sink.Events.Select(e => e.Path).Order());
    }

    [Fact(Timeout = 30_000)]
    public async Task Scan_NestedConfiguredDirectory_GovernedByLongestPrefix()
    {
        await using var fim = await FimHarness.StartAsync(r => new SyscheckOptions
        {
            Disabled = false,
            MaxEps = 0,
            FileLimit = 0,
            Directories =
            [
                new DirectoryOptions { Path = r, Tags = ["outer"] },
                new DirectoryOptions { Path = Path.Combine(r, "inner"), Tags = ["inner"], Checks = FimChecks.Sha256 | FimChecks.Size },
            ],
        }, before: root => Directory.CreateDirectory(Path.Combine(root, "inner")));
        var outer = Path.Combine(fim.Root, "o.txt");
        var inner = Path.Combine(fim.Root, "inner", "i.txt");
        await File.WriteAllTextAsync(outer, "o");
        await File.WriteAllTextAsync(inner, "i");

        await fim.Service.ScanAsync(CancellationToken.None);
        await fim.IdleAsync();

        Assert.Equal("outer", Assert.Single(fim.Sink.For(outer)).Data.GetProperty("tags").GetString());
        var innerEvent = Assert.Single(fim.Sink.For(inner));
        Assert.Equal("inner", innerEvent.Data.GetProperty("tags").GetString());
        Assert.Null(innerEvent.Attr("hash_md5"));
        Assert.Null(innerEvent.Attr("perm"));
        Assert.NotNull(innerEvent.Attr("hash_sha256"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Scan_FileAtSizeLimit_ReportedWithoutHashes()
    {
        await using var fim = await FimHarness.StartAsync(r => FimHarness.DefaultOptions(r, realtime: false) with { FileMaxSizeBytes = 1000 });
        var big = Path.Combine(fim.Root, "big");
        var small = Path.Combine(fim.Root, "small");
        var empty = Path.Combine(fim.Root, "empty");
        await File.WriteAllBytesAsync(big, new byte[1000]);
        await File.WriteAllBytesAsync(small, new byte[999]);
        await File.WriteAllBytesAsync(empty, []);

        await fim.Service.ScanAsync(CancellationToken.None);
        await fim.IdleAsync();

        var bigEvent = Assert.Single(fim.Sink.For(big));
        Assert.Equal("1000", bigEvent.Attr("size"));
        Assert.Null(bigEvent.Attr("hash_md5"));
        Assert.Null(bigEvent.Attr("hash_sha1"));
        Assert.Null(bigEvent.Attr("hash_sha256"));
        Assert.Equal(Hashes.Sha256(new byte[999]), Assert.Single(fim.Sink.For(small)).Attr("hash_sha256"));
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Assert.Single(fim.Sink.For(empty)).Attr("hash_sha256"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Scan_UnreadableFile_ReportedAndScanGoesOn()
    {
        await using var fim = await FimHarness.StartAsync(
            r => FimHarness.DefaultOptions(r, realtime: false),
            create: (options, data, sink) => new FimService(options, data, sink) { FileOpener = new FailingOpener("locked") });
        var locked = Path.Combine(fim.Root, "locked");
        var fine = Path.Combine(fim.Root, "fine");
        await File.WriteAllTextAsync(locked, "secret");
        await File.WriteAllTextAsync(fine, "ok");

        await fim.Service.ScanAsync(CancellationToken.None);
        await fim.IdleAsync();

        var lockedEvent = Assert.Single(fim.Sink.For(locked));
        Assert.Equal("6", lockedEvent.Attr("size"));
        Assert.Null(lockedEvent.Attr("hash_sha256"));
        Assert.Equal(Hashes.Sha256("ok"), Assert.Single(fim.Sink.For(fine)).Attr("hash_sha256"));
        Assert.Contains($"{FimMessages.UnreadablePrefix}'{locked}': Permission denied", fim.Sink.Logs);
    }

    [Fact(Timeout = 30_000)]
    public async Task Scan_FileLimitReached_ReportsLimitAndDatabaseState()
    {
        await using var fim = await FimHarness.StartAsync(r => FimHarness.DefaultOptions(r, realtime: false) with { FileLimit = 5 });
        for (var i = 0; i < 7; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(fim.Root, $"f{i}"), "x");
        }

        await fim.Service.ScanAsync(CancellationToken.None);
        await fim.IdleAsync();

        Assert.Equal(5, fim.Sink.Events.Count);
        Assert.Single(fim.Sink.Logs, l => l.StartsWith(FimMessages.FileLimitPrefix + " (5 entries)", StringComparison.Ordinal));
        Assert.Contains("wazuh: FIM DB: {\"fim_db_table\":\"file_entry\",\"file_limit\":5,\"file_count\":5,\"alert_type\":\"full\"}", fim.Sink.Logs);
    }

    [Fact(Timeout = 30_000)]
    public async Task FirstScan_IsSilentBaseline()
    {
        await using var fim = await FimHarness.StartAsync(before: root => File.WriteAllText(Path.Combine(root, "pre"), "existing"));
        await fim.IdleAsync();

        Assert.Empty(fim.Sink.Events);
        Assert.Equal(1, fim.Service.Writer!.Store.Count);
    }

    private sealed class FailingOpener(string name) : IFileOpener
    {
        public SafeFileHandle Open(string path, bool followSymbolicLink) =>
            Path.GetFileName(path) == name ? throw new UnauthorizedAccessException("Permission denied") : DefaultFileOpener.Instance.Open(path, followSymbolicLink);
    }

    // The baseline is keyed by path: a walk in name order puts a directory's rows into the same B-tree pages one after
    // another (readdir's order, the file system's hash order, costs a page write per file: 124 MB of WAL for 20,000
    // files against 21 MB). The hashing threads may swap neighbours; nothing may land far from its place.
    [Fact(Timeout = 60_000)]
    public async Task Scan_FilesOfADirectory_ReachTheBaselineInNameOrder()
    {
        await using var fim = await FimHarness.StartAsync(r => FimHarness.DefaultOptions(r, realtime: false));
        var random = new Random(8);
        var names = Enumerable.Range(0, 2_000).Select(_ => Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64()))).Distinct().ToArray();
        await fim.RestartAsync(() =>
        {
            foreach (var name in names)
            {
                File.WriteAllText(Path.Combine(fim.Root, name), name);
            }
        });
        await fim.IdleAsync();

        var seen = fim.Sink.Events.Where(e => e.Type == "added").Select(e => Path.GetFileName(e.Path)).ToArray();
        Assert.Equal(names.Length, seen.Length);
        var rank = names.Order(StringComparer.Ordinal).Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i);
        var displaced = seen.Where((name, position) => Math.Abs(rank[name] - position) > 16).Count();
        Assert.True(displaced < names.Length / 20, $"{displaced} of {names.Length} files reached the baseline more than 16 places from their name order");
    }
}
