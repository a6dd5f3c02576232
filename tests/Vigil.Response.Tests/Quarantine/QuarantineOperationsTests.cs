using System.Security.Cryptography;
using Vigil.Core;
using Vigil.Response.Execd;
using Vigil.Response.Quarantine;
using Vigil.Response.Tests.RemoveThreat;

namespace Vigil.Response.Tests.Quarantine;

/// <summary>Restore and delete as the manager's dashboard sends them to an agent: the agent checks what it is told.</summary>
public sealed class QuarantineOperationsTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private QuarantineOperations Operations() => new(_sandbox.QuarantineOptions, new ActiveResponseLog(_sandbox.LogPath, TimeProvider.System), TimeProvider.System);

    private async Task<(string Path, QuarantineRecord Record)> QuarantinedAsync(string name)
    {
        var path = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, name));
        var run = await RemoveThreatHarness.RunAsync(_sandbox, RemoveThreatHarness.Message(path));
        Assert.False(File.Exists(path));
        return (path, run.Records.Single(r => r.OriginalPath == path));
    }

    [Fact]
    public async Task Run_CommandNamingAnotherFileOrHash_IsRefusedAndTouchesNothing()
    {
        var (a, recordA) = await QuarantinedAsync("a.com");
        var (b, _) = await QuarantinedAsync("b.com");
        var before = Sandbox.Snapshot(_sandbox.Monitored, _sandbox.DataDirectory);

        var wrongPath = await Operations().RunAsync(QuarantineOperations.CommandJson("restore", recordA.Id, b, recordA.Sha256, "admin"), CancellationToken.None);
        var wrongHash = await Operations().RunAsync(QuarantineOperations.CommandJson("delete", recordA.Id, a, new string('0', 64), "admin"), CancellationToken.None);
        var noRecord = await Operations().RunAsync(QuarantineOperations.CommandJson("restore", 99, a, recordA.Sha256, "admin"), CancellationToken.None);
        var noPath = await Operations().RunAsync("""{"command":"restore","parameters":{"id":1}}""", CancellationToken.None);
        var garbage = await Operations().RunAsync("{not json", CancellationToken.None);
        var unknown = await Operations().RunAsync(QuarantineOperations.CommandJson("purge", recordA.Id, a, recordA.Sha256, "admin"), CancellationToken.None);

        Assert.All([wrongPath, wrongHash, noRecord, noPath, garbage, unknown], r => Assert.False(r.Succeeded));
        Assert.Contains("not the file the command names", wrongPath.Message, StringComparison.Ordinal);
        Assert.Contains("not the file the command names", wrongHash.Message, StringComparison.Ordinal);
        Assert.Contains("no quarantine record 99", noRecord.Message, StringComparison.Ordinal);
        Assert.Contains("unknown command", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(before, Sandbox.Snapshot(_sandbox.Monitored, _sandbox.DataDirectory));
        Assert.False(File.Exists(a));
        Assert.False(File.Exists(b));
    }

    [Fact]
    public async Task Run_MatchingRestore_PutsTheSameBytesBackAndLogsIt()
    {
        var (path, record) = await QuarantinedAsync("eicar.com");

        var result = await Operations().RunAsync(QuarantineOperations.CommandJson("restore", record.Id, path, record.Sha256, "admin"), CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(Eicar.Sha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(path))));
        Assert.Contains(File.ReadAllLines(_sandbox.LogPath), l => l.Contains("\"command\":\"restore\"", StringComparison.Ordinal) && l.EndsWith("Quarantined file restored", StringComparison.Ordinal));

        var again = await Operations().RunAsync(QuarantineOperations.CommandJson("restore", record.Id, path, record.Sha256, "admin"), CancellationToken.None);
        Assert.False(again.Succeeded);
        Assert.Contains(File.ReadAllLines(_sandbox.LogPath), l => l.Contains("Error on quarantined file", StringComparison.Ordinal));
    }
}
