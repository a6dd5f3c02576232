using System.Net;
using System.Net.Sockets;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// An agent that leaves a manager still running (its connection cut by the network, here a TCP proxy in front of A that
/// the test closes): A goes on analysing what it received, the agent replays to B, and the shared store holds one alert
/// per event.
/// </summary>
public sealed class LiveManagerLeftTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Agent_CutFromALiveManagerMidBurst_MovesToB_AndTheSharedStoreHoldsOneAlertPerEvent()
    {
        using var fixture = new TransportFixture();
        var name = await postgres.Server.CreateDatabaseAsync();
        var caPassword = Path.Combine(fixture.AgentsRoot, "..", "ca.pass");
        await File.WriteAllTextAsync(caPassword, "ca-secret-for-tests\n");
        string[] shared = ["--database", postgres.Server.Url(name), "--database-password-file", postgres.Server.PasswordFile, "--ca-password-file", caPassword];
        var a = fixture.AddManager("manager-a", shared);
        var b = fixture.AddManager("manager-b", shared);
        await using var managerA = a.Start();
        await managerA.WaitForOutputAsync("vigil: manager ready", s_flow);
        await using var managerB = b.Start();
        await managerB.WaitForOutputAsync("vigil: manager ready", s_flow);
        var web1 = await fixture.EnrollAsync("web-01", at: a);

        using var proxy = new CuttableProxy(new IPEndPoint(IPAddress.Loopback, a.AgentPort));
        await using var agent = VigilProcess.Start(
            ["agent", "--home", web1.Home, "--data-dir", web1.Data, "--keep-alive", "1", "--manager", $"{proxy.Endpoint},{b.AgentEndpoint}"]);
        await agent.WaitForOutputAsync($"Connected to the manager at {proxy.Endpoint}", s_flow);

        // A burst of distinct files in two halves. Once A has alerted the first, its next shared commit is held (its
        // manager_commits row locked for 10 s) before the second half is written. The commit that waits holds files of
        // the burst (A's last batch of the first half, or its first of the second), analysed and not committed when
        // the agent leaves A, so B starts from the older watermark. The connection to A is cut once A waits on the
        // lock, A still running.
        const int Files = 200;
        var files = Enumerable.Range(0, Files).Select(i => Path.Combine(web1.Watched, $"burst-{i:000}.txt")).ToList();
        string Count(string sql) => postgres.Server.PsqlAsync(name, sql).GetAwaiter().GetResult().Trim();
        await WriteAsync(files.Take(Files / 2));
        await WaitForAsync(() => CountFor(a, files) == Files / 2, managerA, agent);

        var held = postgres.Server.PsqlAsync(name,
            $"BEGIN; SELECT 1 FROM manager_commits WHERE manager LIKE '%:{a.AgentPort}' FOR UPDATE; SELECT pg_sleep(10); COMMIT;");
        await WaitForAsync(() => Count("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(10)%' AND pid <> pg_backend_pid() AND datname = current_database()") != "0", managerA, agent);
        var writer = WriteAsync(files.Skip(Files / 2));
        await WaitForAsync(() => Count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()") != "0", managerA, agent);
        proxy.Cut();
        await agent.WaitForOutputAsync($"Connected to the manager at {b.AgentEndpoint}", s_flow);
        await writer;
        await held;
        var paths = "('" + string.Join("','", files) + "')";
        await WaitForAsync(() => Count($"SELECT count(DISTINCT json::json->'syscheck'->>'path') FROM alerts WHERE json::json->'syscheck'->>'path' IN {paths}") == Files.ToString(System.Globalization.CultureInfo.InvariantCulture), managerA, managerB, agent);

        // Give a duplicate the time to show up before counting.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var repeated = Count($"SELECT coalesce(string_agg(p || '×' || n, ', '), '') FROM (SELECT json::json->'syscheck'->>'path' AS p, count(*) AS n FROM alerts GROUP BY 1 HAVING count(*) > 1) d WHERE p IN {paths}");
        Assert.True(repeated.Length == 0, $"not exactly one alert in the shared store: {repeated}");
        Assert.Equal(Files.ToString(System.Globalization.CultureInfo.InvariantCulture), Count($"SELECT count(*) FROM alerts WHERE json::json->'syscheck'->>'path' IN {paths}"));
        var both = files.Count(f => a.Alerts().Any(x => PathOf(x) == f) && b.Alerts().Any(x => PathOf(x) == f));
        Assert.True(both > 0, $"no event analysed on both managers: the window was not opened (A alerted {CountFor(a, files)}, B {CountFor(b, files)})");
        await Console.Out.WriteLineAsync($"live manager left: A alerted {CountFor(a, files)} of {Files}, B {CountFor(b, files)}, both {both}; the store holds {Files}");
    }

    [Fact]
    public async Task Agent_ManagerFrozen_MovesToTheNextWithinTheHttp2PingBound()
    {
        using var fixture = new TransportFixture();
        var name = await postgres.Server.CreateDatabaseAsync();
        var caPassword = Path.Combine(fixture.AgentsRoot, "..", "ca.pass");
        await File.WriteAllTextAsync(caPassword, "ca-secret-for-tests\n");
        string[] shared = ["--database", postgres.Server.Url(name), "--database-password-file", postgres.Server.PasswordFile, "--ca-password-file", caPassword];
        var a = fixture.AddManager("manager-a", shared);
        var b = fixture.AddManager("manager-b", shared);
        await using var managerA = a.Start();
        await managerA.WaitForOutputAsync("vigil: manager ready", s_flow);
        await using var managerB = b.Start();
        await managerB.WaitForOutputAsync("vigil: manager ready", s_flow);
        var web1 = await fixture.EnrollAsync("web-01", at: a);
        await using var agent = VigilProcess.Start(
            ["agent", "--home", web1.Home, "--data-dir", web1.Data, "--keep-alive", "1", "--manager", $"{a.AgentEndpoint},{b.AgentEndpoint}"]);
        await agent.WaitForOutputAsync($"Connected to the manager at {a.AgentEndpoint}", s_flow);
        var before = Path.Combine(web1.Watched, "before.txt");
        await File.WriteAllTextAsync(before, "before");
        await WaitForAsync(() => a.Alerts().Any(x => PathOf(x) == before), managerA, agent);

        // SIGSTOP: the process stays, its sockets open, and nothing answers.
        Signal("STOP", managerA.Id);
        try
        {
            var frozen = System.Diagnostics.Stopwatch.StartNew();
            var during = Path.Combine(web1.Watched, "during.txt");
            await File.WriteAllTextAsync(during, "during");
            await agent.WaitForOutputAsync($"Connected to the manager at {b.AgentEndpoint}", s_flow);
            var moved = frozen.Elapsed;
            await WaitForAsync(() => b.Alerts().Any(x => PathOf(x) == during), managerB, agent);
            await Console.Out.WriteLineAsync($"frozen manager: agent connected to B {moved.TotalMilliseconds:0} ms after A was stopped");
            Assert.True(moved < TimeSpan.FromSeconds(15), $"the agent took {moved} to leave the frozen manager:\n{agent.Output}");
        }
        finally
        {
            Signal("CONT", managerA.Id);
        }
    }

    private static async Task WriteAsync(IEnumerable<string> files)
    {
        foreach (var file in files)
        {
            await File.WriteAllTextAsync(file, $"event {file}");
            await Task.Delay(5);
        }
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static string? PathOf(System.Text.Json.JsonElement alert) =>
        alert.TryGetProperty("syscheck", out var syscheck) && syscheck.TryGetProperty("path", out var path) ? path.GetString() : null;

    private static int CountFor(ManagerNode manager, List<string> files)
    {
        var set = files.ToHashSet(StringComparer.Ordinal);
        return manager.Alerts().Select(PathOf).Where(p => p is not null && set.Contains(p)).Distinct().Count();
    }

    private static async Task WaitForAsync(Func<bool> done, params VigilProcess[] processes)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > s_flow)
            {
                throw new TimeoutException($"not done within {s_flow}. Output:\n{string.Join("\n----\n", processes.Select(p => p.Output))}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>A TCP proxy to one endpoint; <see cref="Cut"/> closes its listener and every connection through it.</summary>
    private sealed class CuttableProxy : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly IPEndPoint _target;
        private readonly List<Socket> _sockets = [];
        private readonly Lock _gate = new();
        private readonly Task _accepting;

        public CuttableProxy(IPEndPoint target)
        {
            _target = target;
            _listener.Start();
            _accepting = Task.Run(AcceptAsync);
        }

        public string Endpoint => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        private async Task AcceptAsync()
        {
            while (true)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptSocketAsync();
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await server.ConnectAsync(_target);
                }
                catch (SocketException)
                {
                    client.Dispose();
                    server.Dispose();
                    continue;
                }

                lock (_gate)
                {
                    _sockets.Add(client);
                    _sockets.Add(server);
                }

                _ = PumpAsync(client, server);
                _ = PumpAsync(server, client);
            }
        }

        private static async Task PumpAsync(Socket from, Socket to)
        {
            var buffer = new byte[65536];
            try
            {
                while (true)
                {
                    var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                    if (read == 0)
                    {
                        to.Shutdown(SocketShutdown.Send);
                        return;
                    }

                    await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        }

        /// <summary>Closes the listener (a reconnect is refused) and resets every connection through the proxy.</summary>
        public void Cut()
        {
            _listener.Stop();
            lock (_gate)
            {
                foreach (var socket in _sockets)
                {
                    socket.LingerState = new LingerOption(true, 0); // a reset, as a broken network would give
                    socket.Dispose();
                }

                _sockets.Clear();
            }
        }

        public void Dispose()
        {
            Cut();
            _accepting.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
