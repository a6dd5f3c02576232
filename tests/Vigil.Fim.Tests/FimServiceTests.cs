using System.Text;
using Vigil.Core.Native;

namespace Vigil.Fim.Tests;

public sealed class FimServiceTests
{
    [Fact(Timeout = 30_000)]
    public async Task Realtime_FileCreated_ReportsAddedEventInWazuhShape()
    {
        await using var fim = await FimHarness.StartAsync(r => FimHarness.DefaultOptions(r, directory: d => d with { Tags = ["web", "prod"] }));
        var path = Path.Combine(fim.Root, "new.txt");
        var content = Encoding.UTF8.GetBytes("hello world\n");
        await File.WriteAllBytesAsync(path, content);

        var added = await fim.Sink.WaitForAsync(path, "added");

        var status = FileStatus.TryGet(path, followLinks: false)!.Value;
        Assert.Equal("realtime", added.Mode);
        Assert.Equal("2.0", added.Data.GetProperty("version").GetRawText());
        Assert.True(added.Data.GetProperty("timestamp").GetInt64() > 1_600_000_000);
        Assert.Equal("file", added.Attr("type"));
        Assert.Equal("12", added.Attr("size"));
        Assert.Equal(FileStatus.PermissionString(status.Mode), added.Attr("perm"));
        Assert.Equal("0", added.Attr("uid"));
        Assert.Equal("0", added.Attr("gid"));
        Assert.Equal("root", added.Attr("user_name"));
        Assert.Equal("root", added.Attr("group_name"));
        Assert.Equal(status.Inode.ToString(System.Globalization.CultureInfo.InvariantCulture), added.Attributes.GetProperty("inode").GetString());
        Assert.Equal(status.MtimeSeconds, added.Attributes.GetProperty("mtime").GetInt64());
        Assert.Equal(Hashes.Md5(content), added.Attr("hash_md5"));
        Assert.Equal(Hashes.Sha1(content), added.Attr("hash_sha1"));
        Assert.Equal(Hashes.Sha256(content), added.Attr("hash_sha256"));
        Assert.Equal(40, added.Attr("checksum")!.Length);
        Assert.Equal("web,prod", added.Data.GetProperty("tags").GetString());
        Assert.False(added.Data.TryGetProperty("old_attributes", out _));
        Assert.False(added.Data.TryGetProperty("changed_attributes", out _));
        Assert.Single(fim.Sink.For(path));
    }

    [Fact(Timeout = 30_000)]
    public async Task Realtime_ContentModified_ReportsChangedAttributesAndDiff()
    {
        await using var fim = await FimHarness.StartAsync(r => FimHarness.DefaultOptions(r, directory: d => d with { ReportChanges = true }));
        var path = Path.Combine(fim.Root, "config.txt");
        await File.WriteAllTextAsync(path, "a\nold\nc\n");
        var added = await fim.Sink.WaitForAsync(path, "added");
        File.SetLastWriteTimeUtc(path, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        await fim.Sink.WaitForAsync(path, "modified");

        await File.WriteAllTextAsync(path, "a\nnew\nc\n");
        await fim.Sink.WaitUntilAsync(() => fim.Sink.For(path).Count(e => e.Type == "modified") == 2, TimeSpan.FromSeconds(10), "second modified");

        var modified = fim.Sink.For(path).Last();
        Assert.Equal(["mtime", "md5", "sha1", "sha256"], modified.Changed);
        Assert.Equal(added.Attr("hash_sha256"), modified.Data.GetProperty("old_attributes").GetProperty("hash_sha256").GetString());
        Assert.Equal(Hashes.Sha256("a\nnew\nc\n"), modified.Attr("hash_sha256"));
        Assert.Equal("2c2\n< old\n---\n> new", modified.Data.GetProperty("content_changes").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task Realtime_ModeChanged_ReportsPermission()
    {
        await using var fim = await FimHarness.StartAsync();
        var path = Path.Combine(fim.Root, "script.sh");
        await File.WriteAllTextAsync(path, "#!/bin/sh\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await fim.Sink.WaitUntilAsync(() => fim.Sink.For(path).Any(e => e.Attr("perm") == "rw-------"), TimeSpan.FromSeconds(10), "rw-------");

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.SetUser);

        var modified = await fim.Sink.WaitForAsync(path, "modified");
        await fim.Sink.WaitUntilAsync(() => fim.Sink.For(path).Last().Attr("perm") == "rws------", TimeSpan.FromSeconds(10), "rws------");
        modified = fim.Sink.For(path).Last();
        Assert.Equal(["permission"], modified.Changed);
        Assert.Equal("rw-------", modified.Data.GetProperty("old_attributes").GetProperty("perm").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task Realtime_OwnerChanged_ReportsUidGidAndNames()
    {
        await using var fim = await FimHarness.StartAsync();
        var path = Path.Combine(fim.Root, "owned");
        await File.WriteAllTextAsync(path, "x");
        await fim.Sink.WaitForAsync(path, "added");

        Assert.Equal(0, Chown(path, 4321, 4321));

        var modified = await fim.Sink.WaitForAsync(path, "modified");
        Assert.Equal("4321", modified.Attr("uid"));
        Assert.Equal("4321", modified.Attr("gid"));
        Assert.Equal("", modified.Attr("user_name"));
        Assert.Equal(["uid", "gid", "user_name", "group_name"], modified.Changed);
        Assert.Equal("0", modified.Data.GetProperty("old_attributes").GetProperty("uid").GetString());
    }

    [Fact(Timeout = 30_000)]
    public async Task Realtime_FileDeleted_ReportsDeletedWithLastKnownAttributes()
    {
        await using var fim = await FimHarness.StartAsync();
        var path = Path.Combine(fim.Root, "gone.bin");
        await File.WriteAllTextAsync(path, "bye");
        await fim.Sink.WaitForAsync(path, "added");

        File.Delete(path);

        var deleted = await fim.Sink.WaitForAsync(path, "deleted");
        Assert.Equal(Hashes.Sha256("bye"), deleted.Attr("hash_sha256"));
        Assert.Equal("realtime", deleted.Mode);
    }

    [Fact(Timeout = 30_000)]
    public async Task Realtime_RenameInAndOut_ReportsAddedAndDeleted()
    {
        await using var fim = await FimHarness.StartAsync();
        var outside = fim.Temp.Combine("outside.txt");
        await File.WriteAllTextAsync(outside, "payload");
        var inside = Path.Combine(fim.Root, "moved-in.txt");

        File.Move(outside, inside);
        var added = await fim.Sink.WaitForAsync(inside, "added");
        Assert.Equal(Hashes.Sha256("payload"), added.Attr("hash_sha256"));

        var renamed = Path.Combine(fim.Root, "renamed.txt");
        File.Move(inside, renamed);
        await fim.Sink.WaitForAsync(inside, "deleted");
        await fim.Sink.WaitForAsync(renamed, "added");

        File.Move(renamed, fim.Temp.Combine("moved-out.txt"));
        await fim.Sink.WaitForAsync(renamed, "deleted");
    }

    [Fact(Timeout = 30_000)]
    public async Task Realtime_SymlinkCreated_ReportsLinkWithoutHashes()
    {
        await using var fim = await FimHarness.StartAsync();
        var link = Path.Combine(fim.Root, "link");

        File.CreateSymbolicLink(link, "/etc/hostname");

        var added = await fim.Sink.WaitForAsync(link, "added");
        Assert.Equal("rwxrwxrwx", added.Attr("perm"));
        Assert.Equal("13", added.Attr("size"));
        Assert.Null(added.Attr("hash_sha256"));
        Assert.Null(added.Attr("hash_md5"));
    }

    [Fact(Timeout = 30_000)]
    public async Task Realtime_FileWrittenInChunksOverTwoSeconds_FinalEventHasCompleteHash()
    {
        await using var fim = await FimHarness.StartAsync();
        var path = Path.Combine(fim.Root, "download.iso");
        var all = new List<byte>();
        // The writer runs on a thread of its own, pausing 250 ms between chunks (a quarter of the FIM's quiet period):
        // on the thread pool, a loaded test run could stretch a pause past the quiet period and so see a real pause.
        await Task.Factory.StartNew(
            () =>
            {
                using var pause = new ManualResetEventSlim();
                using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
                for (var i = 0; i < 8; i++)
                {
                    var chunk = Encoding.UTF8.GetBytes(new string((char)('a' + i), 4096));
                    stream.Write(chunk);
                    stream.Flush();
                    all.AddRange(chunk);
                    pause.Wait(250);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        await fim.Sink.WaitForAsync(path, "added");
        await fim.IdleAsync();
        var events = fim.Sink.For(path);
        var expected = Hashes.Sha256([.. all]);
        Assert.Single(events);
        Assert.Equal(expected, events[0].Attr("hash_sha256"));
        Assert.Equal("32768", events[0].Attr("size"));
    }

    [Fact(Timeout = 60_000)]
    public async Task Restart_ChangesWhileStopped_ReportedOnceAtStart()
    {
        await using var fim = await FimHarness.StartAsync(before: root =>
        {
            File.WriteAllText(Path.Combine(root, "keep.txt"), "same");
            File.WriteAllText(Path.Combine(root, "change.txt"), "before");
            File.WriteAllText(Path.Combine(root, "delete.txt"), "doomed");
        });
        await fim.IdleAsync();
        Assert.Empty(fim.Sink.Events); // the first scan is the silent baseline

        var added = Path.Combine(fim.Root, "added.txt");
        var changed = Path.Combine(fim.Root, "change.txt");
        var deleted = Path.Combine(fim.Root, "delete.txt");
        await fim.RestartAsync(() =>
        {
            File.WriteAllText(added, "new");
            File.WriteAllText(changed, "after!");
            File.Delete(deleted);
        });
        await fim.IdleAsync();

        Assert.Equal("added", Assert.Single(fim.Sink.For(added)).Type);
        var modified = Assert.Single(fim.Sink.For(changed));
        Assert.Equal("modified", modified.Type);
        Assert.Equal("scheduled", modified.Mode);
        Assert.Contains("sha256", modified.Changed);
        Assert.Equal("deleted", Assert.Single(fim.Sink.For(deleted)).Type);
        Assert.Empty(fim.Sink.For(Path.Combine(fim.Root, "keep.txt")));
        Assert.Contains(fim.Sink.Messages, m => m.Message.StartsWith("{\"type\":\"scan_start\"", StringComparison.Ordinal));
        Assert.Contains(fim.Sink.Messages, m => m.Message.StartsWith("{\"type\":\"scan_end\"", StringComparison.Ordinal));
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int chown(string path, int owner, int group);

    private static int Chown(string path, int uid, int gid) => chown(path, uid, gid);
}
