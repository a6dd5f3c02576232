using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Vigil.Core;
using Vigil.Response.Quarantine;
using Vigil.Response.RemoveThreat;

namespace Vigil.Response.Tests.RemoveThreat;

/// <summary>
/// The adversarial cases of issue 5: in each, only the flagged file may change (snapshots of the whole tree
/// before and after), and the log line says what happened. Run against both builds of remove-threat: the managed
/// program in process and the native program as a child process.
/// </summary>
public abstract partial class ThreatRemoverTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    protected abstract RemoveThreatBuild Build { get; }


    [GeneratedRegex(@"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d active-response/bin/remove-threat: \{.*\} (.*)$")]
    private static partial Regex LogLine();

    private Dictionary<string, string> Snapshot() => Sandbox.Snapshot(_sandbox.Monitored, _sandbox.Outside);

    private static string Outcome(RemoveThreatHarness.Run run)
    {
        // One outcome line; a quarantined file also gets its record line (rule 200303) right after it.
        var match = LogLine().Match(run.LogLines[0]);
        Assert.True(match.Success, run.LogLines[0]);
        if (run.Records.Count == 1 && run.Records[0].Action == QuarantineAction.Quarantine && match.Groups[1].Value.StartsWith("Successfully", StringComparison.Ordinal))
        {
            Assert.Equal(2, run.LogLines.Length);
            var record = JsonNode.Parse(QuarantineLine().Match(run.LogLines[1]).Groups[1].Value)!;
            Assert.Equal("quarantine", (string?)record["command"]);
            Assert.Equal(run.Records[0].Id, (long?)record["parameters"]!["id"]);
            Assert.Equal(run.Records[0].OriginalPath, (string?)record["parameters"]!["path"]);
            Assert.Equal(run.Records[0].Sha256, (string?)record["parameters"]!["sha256"]);
        }
        else
        {
            Assert.Single(run.LogLines);
        }

        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d active-response/bin/vigil-quarantine: (\{.*\}) File quarantined "".*""$")]
    private static partial Regex QuarantineLine();

    private async Task AssertQuarantinedAsync(string path)
    {
        var before = Snapshot();
        var run = await RemoveThreatHarness.RunAsync(_sandbox, RemoveThreatHarness.Message(path), build: Build);
        Assert.StartsWith("Successfully removed threat ", Outcome(run));
        Assert.False(File.Exists(path));
        Sandbox.AssertUnchangedExcept(before, Snapshot(), path);
        var record = Assert.Single(run.Records);
        Assert.Equal(path, record.OriginalPath);
        Assert.Equal(Eicar.Sha256, record.Sha256);
        Assert.Equal(QuarantineState.Quarantined, record.State);
        Assert.True(File.Exists(record.VaultPath));
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(record.VaultPath));
    }

    private async Task<string> AssertRefusedAsync(string path, string? message = null, RemoveThreatOptions? options = null, string phrase = "Error removing threat ")
    {
        var before = Snapshot();
        var run = await RemoveThreatHarness.RunAsync(_sandbox, message ?? RemoveThreatHarness.Message(path), options, build: Build);
        var outcome = Outcome(run);
        Assert.StartsWith(phrase, outcome);
        Assert.DoesNotContain("Successfully", outcome);
        Sandbox.AssertUnchangedExcept(before, Snapshot());
        Assert.Empty(run.Records);
        return outcome;
    }

    [Fact]
    public async Task Remove_NameWithSpaces_QuarantinesOnlyThatFile()
    {
        _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "a"));
        _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "b"));
        await AssertQuarantinedAsync(_sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "a b")));
    }

    [Fact]
    public async Task Remove_NameWithGlobStar_QuarantinesOnlyThatFile()
    {
        _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "x1"));
        _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "x2"));
        await AssertQuarantinedAsync(_sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "x*")));
    }

    [Fact]
    public async Task Remove_NameWithNewline_QuarantinesOnlyThatFileAndLogsOneLine()
    {
        _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "evil"));
        _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "name"));
        await AssertQuarantinedAsync(_sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "evil\nname")));
    }

    [Fact]
    public async Task Remove_SeedWordSplittingAttack_DoesNotTouchVictim()
    {
        // The seed's `rm -f $FILENAME` on "/mon/x /mon/victim" would remove /mon/victim. Here the flagged file is
        // the one whose path really is that string: directory "x " → … → victim.
        var victim = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "victim"));
        var flagged = _sandbox.Monitored + "/x " + victim;
        _sandbox.WriteEicar(flagged);
        await AssertQuarantinedAsync(flagged);
        Assert.True(File.Exists(victim));
    }

    [Fact]
    public async Task Remove_FinalComponentSymlinkToOutside_RefusesAndKeepsTarget()
    {
        var outside = _sandbox.WriteEicar(Path.Combine(_sandbox.Outside, "passwd"));
        var link = Path.Combine(_sandbox.Monitored, "link");
        File.CreateSymbolicLink(link, outside);
        var outcome = await AssertRefusedAsync(link);
        Assert.Contains("symbolic link", outcome);
    }

    [Fact]
    public async Task Remove_ParentSwappedForSymlinkAfterDetection_RefusesAndKeepsOutsideFile()
    {
        var flagged = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "sub", "mal"));
        var message = RemoveThreatHarness.Message(flagged); // detection happened
        Directory.Move(Path.Combine(_sandbox.Monitored, "sub"), Path.Combine(_sandbox.Monitored, "sub.orig"));
        _sandbox.WriteEicar(Path.Combine(_sandbox.Outside, "mal"));
        Directory.CreateSymbolicLink(Path.Combine(_sandbox.Monitored, "sub"), _sandbox.Outside);
        var outcome = await AssertRefusedAsync(flagged, message);
        Assert.Contains("sub is a symbolic link", outcome);
    }

    [Fact]
    public async Task Remove_ContentReplacedAfterDetection_ReportsHashChangedAndTouchesNothing()
    {
        var flagged = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "doc.txt"));
        var message = RemoveThreatHarness.Message(flagged);
        File.WriteAllText(flagged, "an innocent document now");
        var outcome = await AssertRefusedAsync(flagged, message);
        Assert.Contains("hash changed", outcome);
    }

    [Fact]
    public async Task Remove_HardLinkWithOtherNameOutside_RefusesByDefault()
    {
        var flagged = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal"));
        Assert.Equal(0, Sandbox.Run("ln", flagged, Path.Combine(_sandbox.Outside, "important")));
        var outcome = await AssertRefusedAsync(flagged);
        Assert.Contains("2 hard links", outcome);
    }

    [Fact]
    public async Task Remove_HardLinkWhenAllowed_QuarantinesThisNameOnly()
    {
        var flagged = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal"));
        var other = Path.Combine(_sandbox.Outside, "other");
        Assert.Equal(0, Sandbox.Run("ln", flagged, other));
        var options = _sandbox.DefaultRemoveOptions() with { AllowHardLinks = true };
        var run = await RemoveThreatHarness.RunAsync(_sandbox, RemoveThreatHarness.Message(flagged), options, build: Build);
        Assert.StartsWith("Successfully removed threat", Outcome(run));
        Assert.False(File.Exists(flagged));
        Assert.True(File.Exists(other)); // the other name stays; the shared inode is now mode 000
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(other));
    }

    [Theory]
    [InlineData("/mon/../outside/passwd", "'..'")]
    [InlineData("mon/mal", "not absolute")]
    [InlineData("/mon/./mal", "not normalized")]
    [InlineData("/mon//mal", "not normalized")]
    public async Task Remove_UnsafePathText_Refuses(string template, string reason)
    {
        _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal"));
        _sandbox.WriteEicar(Path.Combine(_sandbox.Outside, "passwd"));
        var path = template.StartsWith('/') ? _sandbox.Root + template : template;
        var outcome = await AssertRefusedAsync(path);
        Assert.Contains(reason, outcome);
    }

    [Fact]
    public async Task Remove_OutsideMonitoredDirectories_Refuses()
    {
        var path = _sandbox.WriteEicar(Path.Combine(_sandbox.Outside, "mal"));
        Assert.Contains("not inside a monitored directory", await AssertRefusedAsync(path));
    }

    [Theory]
    [InlineData("home/logs/x")]
    [InlineData("home/.vigil/vault/x")]
    public async Task Remove_VigilsOwnFiles_Refuses(string relative)
    {
        var options = _sandbox.DefaultRemoveOptions() with { AllowedDirectories = [_sandbox.Root] };
        var own = _sandbox.WriteEicar(Path.Combine(_sandbox.Root, relative));
        Assert.Contains("Vigil's own files", await AssertRefusedAsync(own, options: options));
        Assert.True(File.Exists(own));
    }

    [Fact]
    public async Task Remove_Fifo_Refuses()
    {
        var fifo = Path.Combine(_sandbox.Monitored, "pipe");
        Assert.Equal(0, Sandbox.Run("mkfifo", fifo));
        Assert.Contains("is a fifo", await AssertRefusedAsync(fifo));
    }

    [Fact]
    public async Task Remove_Device_Refuses()
    {
        var device = Path.Combine(_sandbox.Monitored, "null");
        Assert.Equal(0, Sandbox.Run("mknod", device, "c", "1", "3"));
        Assert.Contains("is a character device", await AssertRefusedAsync(device));
    }

    [Fact]
    public async Task Remove_Directory_Refuses()
    {
        var directory = Path.Combine(_sandbox.Monitored, "dir");
        _sandbox.WriteEicar(Path.Combine(directory, "inner"));
        Assert.Contains("is a directory", await AssertRefusedAsync(directory));
    }

    [Fact]
    public async Task Remove_AlreadyDeleted_LogsGoneNeverSuccess()
    {
        var path = Path.Combine(_sandbox.Monitored, "gone");
        var outcome = await AssertRefusedAsync(path, phrase: "Threat already gone ");
        Assert.Contains("no such file", outcome);
    }

    [Fact]
    public async Task Remove_FileOnOtherFilesystem_RenamesIntoThatFilesystemsVault()
    {
        var mount = Path.Combine(_sandbox.Root, "tmpfs");
        Assert.True(_sandbox.TryMountTmpfs(mount), "mount -t tmpfs (tests run as root)");
        var flagged = _sandbox.WriteEicar(Path.Combine(mount, "sub", "mal"));
        var before = Sandbox.Snapshot(mount);
        var options = _sandbox.DefaultRemoveOptions() with { AllowedDirectories = [mount] };
        var run = await RemoveThreatHarness.RunAsync(_sandbox, RemoveThreatHarness.Message(flagged), options, build: Build);
        Assert.StartsWith("Successfully removed threat", Outcome(run));
        var record = Assert.Single(run.Records);
        var vault = Path.Combine(mount, QuarantineOptions.PerFilesystemVaultName);
        Assert.StartsWith(vault + "/", record.VaultPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(vault));
        Assert.Equal(Eicar.Bytes, File.ReadAllBytes(record.VaultPath));
        Sandbox.AssertUnchangedExcept(before, Sandbox.Snapshot(mount), flagged, mount, vault, record.VaultPath);
    }

    [Fact]
    public async Task Remove_DeleteInExtraArgs_DeletesAndRecords()
    {
        var flagged = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal"));
        var run = await RemoveThreatHarness.RunAsync(_sandbox, RemoveThreatHarness.Message(flagged, extraArgs: ["delete"]), build: Build);
        Assert.StartsWith("Successfully removed threat", Outcome(run));
        Assert.False(File.Exists(flagged));
        var record = Assert.Single(run.Records);
        Assert.Equal(QuarantineAction.Delete, record.Action);
        Assert.Equal(QuarantineState.Deleted, record.State);
        Assert.Empty(Directory.GetFiles(_sandbox.QuarantineOptions.MainVaultDirectory));
    }

    [Fact]
    public async Task Remove_AlertWithoutHash_Refuses()
    {
        var flagged = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal"));
        Assert.Contains("no md5, sha1 or sha256", await AssertRefusedAsync(flagged, RemoveThreatHarness.Message(flagged, md5: null, sha1: null)));
    }

    // Issue 13, defect 5: a 10 GiB sparse file was hashed whole (91 s) under a host-wide lock.
    [Fact]
    public async Task Remove_FileOverTheSizeLimit_RefusedUnread()
    {
        var big = Path.Combine(_sandbox.Monitored, "big.bin");
        using (var stream = File.Create(big))
        {
            stream.SetLength(10L << 30); // sparse: no blocks, 10 GiB to read
        }

        var started = TimeProvider.System.GetTimestamp();
        var message = RemoveThreatHarness.Message(big, size: 10L << 30);
        var run = await RemoveThreatHarness.RunAsync(_sandbox, message, _sandbox.DefaultRemoveOptions() with { MaxFileSizeBytes = 1L << 30 }, build: Build);
        var outcome = Outcome(run);
        Assert.StartsWith("Error removing threat ", outcome);
        Assert.Empty(run.Records);
        Assert.Contains($"the file is {10L << 30} bytes, over the removal limit of {1L << 30} bytes", outcome);
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(10), "the file was read");
        Assert.True(File.Exists(big));
    }

    public void Dispose()
    {
        _sandbox.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The suite against the managed remove-threat, in process.</summary>
public sealed class InProcessThreatRemoverTests : ThreatRemoverTests
{
    protected override RemoveThreatBuild Build => RemoveThreatBuild.InProcess;
}

/// <summary>The suite against the native remove-threat (NativeAOT), as a child process.</summary>
public sealed class NativeThreatRemoverTests : ThreatRemoverTests
{
    protected override RemoveThreatBuild Build => RemoveThreatBuild.Native;
}

/// <summary>The remover's own cases, below the stdin protocol (one build: the library both programs run).</summary>
public sealed partial class ThreatRemoverDirectTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [GeneratedRegex(@"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d active-response/bin/remove-threat: \{.*\} (.*)$")]
    private static partial Regex LogLine();

    private static string Outcome(RemoveThreatHarness.Run run) => LogLine().Match(run.LogLines[0]).Groups[1].Value;

    private Dictionary<string, string> Snapshot() => Sandbox.Snapshot(_sandbox.Monitored, _sandbox.Outside);

    [Fact]
    public async Task Remove_FileOnTmpfsWithoutPerFilesystemVault_CopiesIntoMainVaultAndUnlinks()
    {
        var shm = Path.Combine("/dev/shm", "vigil-test-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var flagged = _sandbox.WriteEicar(Path.Combine(shm, "mal"));
            var keep = _sandbox.WriteEicar(Path.Combine(shm, "keep"));
            var before = Sandbox.Snapshot(shm, _sandbox.Monitored);
            var options = _sandbox.DefaultRemoveOptions() with { AllowedDirectories = [shm] };
            var quarantine = _sandbox.QuarantineOptions with { UsePerFilesystemVaults = false };
            var run = await RemoveThreatHarness.RunAsync(_sandbox, RemoveThreatHarness.Message(flagged), options, quarantine);
            Assert.StartsWith("Successfully removed threat", Outcome(run));
            Sandbox.AssertUnchangedExcept(before, Sandbox.Snapshot(shm, _sandbox.Monitored), flagged);
            var record = Assert.Single(run.Records);
            Assert.StartsWith(_sandbox.QuarantineOptions.MainVaultDirectory + "/", record.VaultPath);
            Assert.Equal(Eicar.Bytes, File.ReadAllBytes(record.VaultPath));
            Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(record.VaultPath));
            Assert.True(File.Exists(keep));
        }
        finally
        {
            Directory.Delete(shm, recursive: true);
        }
    }

    [Fact]
    public async Task Remove_TwoConcurrentResponsesForOneFile_OneActsOtherReportsHandled()
    {
        var flagged = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal"));
        var before = Snapshot();
        var vault = _sandbox.CreateVault();
        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            _sandbox.CreateRemover(vault: vault).RemoveAsync(Sandbox.EicarTarget(flagged), QuarantineAction.Quarantine, CancellationToken.None))));
        Assert.Single(results, r => r.Outcome == RemovalOutcome.Quarantined);
        var other = Assert.Single(results, r => r.Outcome != RemovalOutcome.Quarantined);
        Assert.Equal(RemovalOutcome.AlreadyHandled, other.Outcome);
        Assert.Equal("Threat already handled \"" + flagged + "\": " + other.Message, RemoveThreatProgram.Describe(flagged, other));
        Assert.Single(vault.Store.List());
        Sandbox.AssertUnchangedExcept(before, Snapshot(), flagged);
    }

    [Fact]
    public async Task Remove_SizeDiffersFromTheAlert_NotHashed()
    {
        var big = Path.Combine(_sandbox.Monitored, "grown.bin");
        using (var stream = File.Create(big))
        {
            stream.SetLength(10L << 30);
        }

        var started = TimeProvider.System.GetTimestamp();
        var result = await _sandbox.CreateRemover(_sandbox.DefaultRemoveOptions() with { MaxFileSizeBytes = long.MaxValue })
            .RemoveAsync(Sandbox.EicarTarget(big) with { Size = Eicar.Bytes.Length }, QuarantineAction.Quarantine, CancellationToken.None);
        Assert.Equal(RemovalOutcome.HashChanged, result.Outcome);
        Assert.Equal($"size changed (flagged {Eicar.Bytes.Length} bytes, now {10L << 30}); nothing was touched", result.Message);
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(10), "the file was read");
        Assert.True(File.Exists(big));
    }

    [Fact]
    public async Task Remove_AnotherFilesRemovalInProgress_DoesNotWait()
    {
        var busy = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "busy"));
        var flagged = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal"));
        var vault = _sandbox.CreateVault();

        // A removal of `busy` holds its lock (as while hashing a large file): `mal` is removed at once, `busy` waits.
        var lockPath = _sandbox.QuarantineOptions.LockPathFor(busy);
        using var held = File.Open(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        Assert.Equal(0, Native.ResponseLibC.Flock((int)held.SafeFileHandle.DangerousGetHandle(), Native.ResponseLibC.LOCK_EX | Native.ResponseLibC.LOCK_NB));
        var options = _sandbox.DefaultRemoveOptions() with { LockTimeout = TimeSpan.FromSeconds(1) };
        var removed = await _sandbox.CreateRemover(options, vault).RemoveAsync(Sandbox.EicarTarget(flagged), QuarantineAction.Quarantine, CancellationToken.None);
        Assert.Equal(RemovalOutcome.Quarantined, removed.Outcome);
        var waited = await _sandbox.CreateRemover(options, vault).RemoveAsync(Sandbox.EicarTarget(busy), QuarantineAction.Quarantine, CancellationToken.None);
        Assert.Equal(RemovalOutcome.Failed, waited.Outcome);
        Assert.Contains("another removal of this file held its lock", waited.Message);
        Assert.True(File.Exists(busy));
    }

    [Fact]
    public void FromAlert_SizeFromEachShape()
    {
        static long? SizeOf(string json) => ThreatTarget.FromAlert(System.Text.Json.JsonDocument.Parse(json).RootElement, out _)!.Size;
        Assert.Equal(68, SizeOf("""{"data":{"virustotal":{"source":{"file":"/a","md5":"44d88612fea8a8f36de82e1278abb02f","size":68}}}}"""));
        Assert.Equal(68, SizeOf("""{"data":{"vigil":{"source":{"file":"/a","md5":"44d88612fea8a8f36de82e1278abb02f","size":68}}}}"""));
        Assert.Equal(68, SizeOf("""{"syscheck":{"path":"/a","md5_after":"44d88612fea8a8f36de82e1278abb02f","size_after":"68"}}"""));
        Assert.Null(SizeOf("""{"syscheck":{"path":"/a","md5_after":"44d88612fea8a8f36de82e1278abb02f","size_after":"-1"}}"""));
        Assert.Null(SizeOf("""{"data":{"vigil":{"source":{"file":"/a","md5":"44d88612fea8a8f36de82e1278abb02f"}}}}"""));
    }
}
