using System.Text.Json.Nodes;

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
}

public sealed class InProcessRemoveThreatProgramTests : RemoveThreatProgramTests
{
    protected override RemoveThreatBuild Build => RemoveThreatBuild.InProcess;
}

public sealed class NativeRemoveThreatProgramTests : RemoveThreatProgramTests
{
    protected override RemoveThreatBuild Build => RemoveThreatBuild.Native;
}
