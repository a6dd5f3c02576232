using System.Net.Sockets;
using System.Text;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>`vigil manager` and `vigil agent` under a Type=notify unit: a real unix datagram socket plays systemd.</summary>
public sealed class SystemdNotifyTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Manager_NotifySocketAndWatchdog_SendsReadyWatchdogAndStopping()
    {
        using var fixture = new TransportFixture();
        using var temp = new TempDirectory("vigil-notify");
        var path = temp.Combine("notify.sock");
        using var systemd = Listen(new UnixDomainSocketEndPoint(path));
        await using var manager = fixture.StartManager(new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = path,
            ["WATCHDOG_USEC"] = "400000",
        });

        var ready = await ReceiveAsync(systemd, manager);
        Assert.Contains("READY=1", ready, StringComparison.Ordinal);
        Assert.Contains($"MAINPID={manager.Id}", ready, StringComparison.Ordinal);
        Assert.Contains("vigil: manager ready", manager.Output, StringComparison.Ordinal);
        Assert.Equal("WATCHDOG=1", await ReceiveAsync(systemd, manager));
        Assert.Equal("WATCHDOG=1", await ReceiveAsync(systemd, manager));

        var exit = await manager.InterruptAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, exit);
        string last;
        do
        {
            last = await ReceiveAsync(systemd, manager);
        }
        while (last == "WATCHDOG=1");
        Assert.Equal("STOPPING=1", last);
    }

    [Fact]
    public async Task Agent_AbstractNotifySocket_SendsReadyOnceConnectedAndWatching()
    {
        using var fixture = new TransportFixture();
        await using var manager = fixture.StartManager();
        await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
        var web1 = await fixture.EnrollAsync("web-01");
        var name = $"vigil-notify-{Guid.NewGuid():N}";
        using var systemd = Listen(new UnixDomainSocketEndPoint("\0" + name));
        await using var agent = TransportFixture.StartAgent(web1, new Dictionary<string, string> { ["NOTIFY_SOCKET"] = "@" + name });

        var ready = await ReceiveAsync(systemd, agent);
        Assert.Contains("READY=1", ready, StringComparison.Ordinal);
        Assert.Contains("vigil: agent ready", agent.Output, StringComparison.Ordinal);
        Assert.Equal(0, await agent.InterruptAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("STOPPING=1", await ReceiveAsync(systemd, agent));
    }

    private static Socket Listen(UnixDomainSocketEndPoint endpoint)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(endpoint);
        return socket;
    }

    private static async Task<string> ReceiveAsync(Socket socket, VigilProcess process)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(s_flow);
        try
        {
            var count = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return Encoding.UTF8.GetString(buffer, 0, count);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no notification within {s_flow}. Output:\n{process.Output}");
        }
    }
}
