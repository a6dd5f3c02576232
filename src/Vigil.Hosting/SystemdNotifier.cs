using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Vigil.Hosting;

/// <summary>
/// systemd's notify protocol (sd_notify(3)) for <c>Type=notify</c> units: one datagram per state change to the unix
/// socket named by <c>NOTIFY_SOCKET</c> (a leading '@' is the abstract namespace). READY=1 once the host has started,
/// STOPPING=1 when it begins to stop, and WATCHDOG=1 at half of <c>WATCHDOG_USEC</c> while it runs, so systemd restarts
/// a host that hangs. Without NOTIFY_SOCKET (not started by systemd) there is no notifier and nothing is sent.
/// </summary>
internal sealed class SystemdNotifier : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly UnixDomainSocketEndPoint _endpoint;
    private readonly TimeSpan? _watchdogInterval;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private Task _watchdog = Task.CompletedTask;
    private Vigil.Core.Diagnostics.StageMonitor? _stages;

    private SystemdNotifier(string socketPath, TimeSpan? watchdogInterval, TimeProvider time)
    {
        _endpoint = new UnixDomainSocketEndPoint(socketPath.StartsWith('@') ? "\0" + socketPath[1..] : socketPath);
        _watchdogInterval = watchdogInterval;
        _time = time;
    }

    /// <summary>The half-period at which WATCHDOG=1 is sent, when systemd asked for it.</summary>
    public TimeSpan? WatchdogInterval => _watchdogInterval;

    /// <summary>
    /// The notifier systemd asked for, or null. The variables are then removed from this process's environment, so
    /// active-response programs started later do not inherit them (sd_notify's unset_environment).
    /// </summary>
    public static SystemdNotifier? FromEnvironment(TimeProvider time)
    {
        var socket = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        var watchdogUsec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        var watchdogPid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        foreach (var name in (string[])["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"])
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        if (string.IsNullOrEmpty(socket) || (socket[0] != '/' && socket[0] != '@'))
        {
            return null;
        }

        // The watchdog is for this process only when WATCHDOG_PID is unset or names it.
        TimeSpan? interval = null;
        if (long.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out var usec) && usec > 0
            && (string.IsNullOrEmpty(watchdogPid) || watchdogPid == Environment.ProcessId.ToString(CultureInfo.InvariantCulture)))
        {
            interval = TimeSpan.FromMicroseconds(usec / 2);
        }

        return new SystemdNotifier(socket, interval, time);
    }

    /// <summary>
    /// From now on the watchdog is fed only while every stage makes progress: a stalled or stopped stage gets a STATUS
    /// line naming it and no WATCHDOG=1, so systemd restarts the host instead of trusting a process that only runs.
    /// </summary>
    public void WatchStages(Vigil.Core.Diagnostics.StageMonitor stages) => _stages = stages;

    /// <summary>READY=1 with a status line; starts the watchdog pings when systemd asked for them.</summary>
    public async Task ReadyAsync(string status, CancellationToken cancellationToken)
    {
        await SendAsync($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId}", cancellationToken);
        if (_watchdogInterval is { } interval)
        {
            _watchdog = PingAsync(interval, _stopping.Token);
        }
    }

    /// <summary>STOPPING=1: the host has begun to shut down.</summary>
    public async Task StoppingAsync()
    {
        await _stopping.CancelAsync();
        await _watchdog;
        await SendAsync("STOPPING=1", CancellationToken.None);
    }

    private async Task PingAsync(TimeSpan interval, CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(interval, _time, stoppingToken);
                if (_stages?.Unhealthy() is [_, ..] unhealthy)
                {
                    var names = string.Join(", ", unhealthy.Select(s => $"{s.Name} {s.Status}: {s.Detail}"));
                    await SendAsync($"STATUS=degraded: {names}", stoppingToken);
                    continue;
                }

                await SendAsync("WATCHDOG=1", stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // A notification that cannot be delivered (systemd gone, socket removed) must never stop the host.
    private async Task SendAsync(string state, CancellationToken cancellationToken)
    {
        try
        {
            await _socket.SendToAsync(Encoding.UTF8.GetBytes(state), SocketFlags.None, _endpoint, cancellationToken);
        }
        catch (SocketException ex)
        {
            await Console.Error.WriteLineAsync($"vigil: systemd notification {state.Split('\n')[0]} not delivered to {_endpoint}: {ex.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _watchdog;
        _socket.Dispose();
        _stopping.Dispose();
    }
}
