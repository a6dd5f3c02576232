using System.Net;
using System.Net.Sockets;
using Vigil.Core;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>The README's exit codes, one test per code, each through the real program.</summary>
public sealed class ExitCodeTests : IDisposable
{
    private readonly TempDirectory _temp = new("vigil-exit");
    private readonly string _home;
    private readonly Dictionary<string, string> _environment;

    public ExitCodeTests()
    {
        _home = TestInstall.WriteShippedHome(_temp, "home");
        _environment = new() { ["VIGIL_HOME"] = _home, ["VIGIL_DATA"] = _temp.Combine("data") };
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Success_Is0()
    {
        var (code, output) = await RunAsync("config", "check");
        Assert.True(code == 0, output);
        (code, output) = await RunAsync("quarantine", "list");
        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task Findings_Are1()
    {
        var eicar = _temp.Combine("eicar.com");
        await File.WriteAllBytesAsync(eicar, Eicar.Bytes);
        var (code, output) = await RunAsync("scan", eicar);
        Assert.True(code == 1, output);

        var broken = _temp.WriteFile("broken.conf", "<ossec_config><syscheck><disabled>maybe</disabled></syscheck></ossec_config>");
        (code, output) = await RunAsync("config", "check", "--config", broken);
        Assert.True(code == 1, output);
        Assert.Contains("broken.conf:1: error:", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run --bogus", "--bogus")]
    [InlineData("run --web-port abc", "abc")]
    [InlineData("eicar", "Required argument missing")]
    [InlineData("quarantine show abc", "abc")]
    [InlineData("quarantine purge", "--older-than")]
    [InlineData("config chek", "chek")]
    [InlineData("frobnicate", "frobnicate")]
    public async Task BadUsage_Is2AndSaysWhatIsWrong(string commandLine, string named)
    {
        var (code, output) = await RunAsync(commandLine.Split(' '));
        Assert.True(code == 2, $"exit {code}:\n{output}");
        Assert.Contains(named, output, StringComparison.Ordinal);
        Assert.Contains("--help", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigurationError_Is3()
    {
        var broken = _temp.WriteFile("broken.conf", "<ossec_config><syscheck><disabled>maybe</disabled></syscheck></ossec_config>");
        var (code, output) = await RunAsync("run", "--config", broken, "--no-web");
        Assert.True(code == 3, output);
        (code, output) = await RunAsync("agent");
        Assert.True(code == 3, output);
        Assert.Contains("not enrolled", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IoError_Is4_AndAnUnreachableManagerIsNamed()
    {
        var port = FreePort();
        var (code, output) = await RunAsync(
            new Dictionary<string, string> { ["VIGIL_ENROLL_PASSWORD"] = "pw" }, "enroll", "--manager", $"127.0.0.1:{port}", "--name", "web-01");
        Assert.True(code == 4, output);
        Assert.Contains($"cannot connect to manager 127.0.0.1:{port}", output, StringComparison.Ordinal);
        Assert.DoesNotContain("subchannel", output, StringComparison.Ordinal);
    }

    private Task<(int Code, string Output)> RunAsync(params string[] arguments) => RunAsync(null, arguments);

    private async Task<(int Code, string Output)> RunAsync(Dictionary<string, string>? extra, params string[] arguments)
    {
        var environment = new Dictionary<string, string>(_environment);
        foreach (var (key, value) in extra ?? [])
        {
            environment[key] = value;
        }

        return await WatchedAnywhereTests.RunWithCodeAsync(arguments, environment);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
