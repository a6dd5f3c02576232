using System.Text.Json.Nodes;
using Vigil.Core.Native;
using Vigil.Response.Quarantine;

namespace Vigil.Response.Tests.RemoveThreat;

/// <summary>The stdin exchange, against both builds (see <see cref="ThreatRemoverTests"/>).</summary>
public abstract class RemoveThreatProgramTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    protected abstract RemoveThreatBuild Build { get; }

    public void Dispose()
    {
        _sandbox.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Run_Add_SendsCheckKeysWithThePathAsKey()
    {
        var path = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "a b"));
        var run = await RemoveThreatHarness.RunAsync(_sandbox, RemoveThreatHarness.Message(path), build: Build);
        var checkKeys = JsonNode.Parse(run.Output.TrimEnd('\n'))!;
        Assert.Equal("check_keys", (string?)checkKeys["command"]);
        Assert.Equal("remove-threat", (string?)checkKeys["origin"]!["name"]);
        Assert.Equal("active-response", (string?)checkKeys["origin"]!["module"]);
        Assert.Equal(path, (string?)checkKeys["parameters"]!["keys"]![0]);
        Assert.Single(run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("{\"command\":\"abort\"}")]
    [InlineData("")]
    [InlineData("garbage")]
    public async Task Run_ReplyNotContinue_LogsAbortedAndTouchesNothing(string reply)
    {
        var path = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal"));
        var message = RemoveThreatHarness.Message(path);
        var run = await RemoveThreatHarness.RunAsync(_sandbox, message, reply: reply, build: Build);
        Assert.Equal(0, run.Exit);
        Assert.True(File.Exists(path));
        Assert.EndsWith($"{RemoveThreatHarness.Program}: {message} Remove threat active response aborted", Assert.Single(run.LogLines));
        Assert.Empty(run.Records);
    }

    [Fact]
    public async Task Run_Delete_DoesNothing()
    {
        var path = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal"));
        var message = RemoveThreatHarness.Message(path).Replace("\"command\":\"add\"", "\"command\":\"delete\"", StringComparison.Ordinal);
        var run = await RemoveThreatHarness.RunAsync(_sandbox, message, build: Build);
        Assert.Equal(0, run.Exit);
        Assert.True(File.Exists(path));
        Assert.Empty(run.Output);
    }

    [Fact]
    public async Task Run_InputNotJson_LogsError()
    {
        var run = await RemoveThreatHarness.RunAsync(_sandbox, "rm -rf /", build: Build);
        Assert.Equal(1, run.Exit);
        Assert.Contains("Error removing threat: the input is not JSON", Assert.Single(run.LogLines));
    }

    // What a crash between the move into the vault and the record's completion leaves: the file in the vault, its
    // record pending, nothing in the AR log. Before the fix a restart found the file gone and no record, and logged
    // "Threat already gone": no 100092, no 200303. Now the same response finishes the removal and logs both, once.
    [Fact]
    public async Task Run_SameResponseAfterACrashLeftTheRecordPending_FinishesWithOneOutcomeAndOneRecordLine()
    {
        var path = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal"));
        var message = RemoveThreatHarness.Message(path);
        var first = await RemoveThreatHarness.RunAsync(_sandbox, message);
        var record = Assert.Single(first.Records);
        first.Vault.Store.SetState(record.Id, QuarantineState.Pending);
        File.Delete(_sandbox.LogPath);

        var again = await RemoveThreatHarness.RunAsync(_sandbox, message);
        var again2 = await RemoveThreatHarness.RunAsync(_sandbox, message);

        Assert.Equal(0, again.Exit);
        Assert.Equal(0, again2.Exit);
        Assert.Equal(2, again2.LogLines.Length);
        Assert.Contains("Successfully removed threat", again2.LogLines[0], StringComparison.Ordinal);
        Assert.True(QuarantineAudit.IsEntryFor(again2.LogLines[1], "quarantine", "1700000000.1234"), again2.LogLines[1]);
        Assert.Equal(QuarantineState.Quarantined, Assert.Single(again2.Records).State);
        Assert.False(File.Exists(path));
        Assert.True(File.Exists(record.VaultPath));
    }

    // A crash after the record was written pending but before the file moved: the file is still in place. The same
    // response undoes the record and removes the file as new: one record, one outcome line, one record line.
    [Fact]
    public async Task Run_SameResponseAfterACrashBeforeTheMove_RemovesTheFileOnce()
    {
        var path = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal"));
        var message = RemoveThreatHarness.Message(path);
        var vault = _sandbox.CreateVault();
        Assert.Equal(0, LibC.FStatAt(LibC.AT_FDCWD, path, out var st, LibC.AT_SYMLINK_NOFOLLOW));
        vault.Store.Add(new QuarantineRecord
        {
            OriginalPath = path,
            VaultPath = Path.Combine(_sandbox.DataDirectory, "never-written"),
            State = QuarantineState.Pending,
            Device = st.Dev,
            Inode = st.Ino,
            Size = st.Size,
            Md5 = Vigil.Core.Eicar.Md5,
            Sha1 = Vigil.Core.Eicar.Sha1,
            Sha256 = "x",
            AlertId = "1700000000.1234",
        });

        var run = await RemoveThreatHarness.RunAsync(_sandbox, message);

        Assert.Equal(0, run.Exit);
        Assert.False(File.Exists(path));
        Assert.Equal(QuarantineState.Quarantined, Assert.Single(run.Records).State);
        Assert.Equal(2, run.LogLines.Length);
        Assert.Contains("Successfully removed threat", run.LogLines[0], StringComparison.Ordinal);
    }

    // Defect 1 of issue 13: a lone surrogate escape in the alert made remove-threat print a stack trace and log nothing.
    [Fact]
    public async Task Run_LoneSurrogateEscapeInTheAlert_OneErrorLineNoCrash()
    {
        var path = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal"));
        var message = RemoveThreatHarness.Message(path).Replace(path, _sandbox.Monitored + "/p\\udcff.txt", StringComparison.Ordinal);
        Assert.Contains("\\udcff", message, StringComparison.Ordinal);

        var run = await RemoveThreatHarness.RunAsync(_sandbox, message);

        var line = Assert.Single(run.LogLines);
        Assert.Contains("threat", line, StringComparison.OrdinalIgnoreCase);
        Assert.True(File.Exists(path));
        Assert.Empty(run.Records);
    }
}

public sealed class InProcessRemoveThreatProgramTests : RemoveThreatProgramTests
{
    protected override RemoveThreatBuild Build => RemoveThreatBuild.InProcess;
}

public sealed class NativeRemoveThreatProgramTests : RemoveThreatProgramTests
{
    protected override RemoveThreatBuild Build => RemoveThreatBuild.Native;
}
