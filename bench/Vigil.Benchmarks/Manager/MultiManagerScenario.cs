using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Vigil.Tests.Common;
using Vigil.Transport.Agent;
using static Vigil.Benchmarks.ChildProcesses;
using AgentStream = Vigil.Benchmarks.Transport.ManagerThroughputScenario.AgentStream;

namespace Vigil.Benchmarks.Manager;

/// <summary>
/// Several managers on one PostgreSQL, in one run:
/// 1. throughput: one `vigil manager` alone (SQLite) against two on one PostgreSQL (15, started by the scenario in a
///    temporary directory with fsync off, as the tests run it), the same N simulated mutual-TLS agents (half on each
///    of the two) sending the same FIM events as fast as acknowledgements allow, after a warm-up that is not counted:
///    events acknowledged per second, and events per manager cpu-second (both managers' cpu summed);
/// 2. failover: a real `vigil agent` given both managers (--manager A,B) while a writer adds a file every 20 ms; the
///    manager it is on is SIGKILLed, and the time to the first of the burst's alerts written by the other is taken
///    (the other accepted an event); the killed one is restarted and the next round kills the one the agent is on.
///    p50/p99 over the rounds, and at the end every file's alerts across both managers (lost, duplicated).
/// Managers run with DOTNET_gcServer=1, as the launcher runs them.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class MultiManagerScenario : IScenario
{
    private const string Password = "bench-enrollment-password";

    public string Name => "multi-manager";

    public string Description => "two managers on one PostgreSQL vs one on SQLite, same agents and events (events/s, events per manager cpu-second); failover of a real agent after SIGKILL, p50/p99 (--agents 20 --events 2000 --warmup 1000 --failovers 20)";

    public async Task<int> RunAsync(string[] args)
    {
        var agents = Option(args, "--agents", 20);
        var perAgent = Option(args, "--events", 2000);
        var warmup = Option(args, "--warmup", 1000);
        var failovers = Option(args, "--failovers", 20);
        if (!File.Exists(VigilProcess.DllPath))
        {
            await Console.Error.WriteLineAsync($"multi-manager: build the CLI first: dotnet build src/Vigil.Cli -c Release ({VigilProcess.DllPath} is missing)");
            return 2;
        }

        using var temp = new TempDirectory("vigil-bench-multi");
        await using var postgres = await PostgresServer.StartAsync();
        var caPassword = temp.WriteFile("ca.pass", "bench-ca-password\n");
        var passwordFile = temp.WriteFile("password", Password + "\n");
        await Console.Out.WriteLineAsync($"# {Name}: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; {agents} agents x {perAgent:N0} FIM events (warm-up {warmup:N0} each, not counted); PostgreSQL 15, fsync off");

        var alone = await ThroughputAsync(temp, "sqlite", 1, [], agents, perAgent, warmup, passwordFile);
        var database = await postgres.CreateDatabaseAsync("bench");
        string[] shared = ["--database", postgres.Url(database), "--database-password-file", postgres.PasswordFile, "--ca-password-file", caPassword];
        var together = await ThroughputAsync(temp, "postgres", 2, shared, agents, perAgent, warmup, passwordFile);
        if (alone is null || together is null)
        {
            return 1;
        }

        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"ratio two managers on PostgreSQL / one on SQLite: {together.Rate / alone.Rate:F2}x events/s, {together.PerCpu / alone.PerCpu:F2}x events per manager cpu-second"));

        if (failovers > 0)
        {
            var failoverDatabase = await postgres.CreateDatabaseAsync("failover");
            string[] failoverShared = ["--database", postgres.Url(failoverDatabase), "--database-password-file", postgres.PasswordFile, "--ca-password-file", caPassword];
            return await FailoverAsync(temp, failoverShared, failovers, passwordFile);
        }

        return 0;
    }

    private sealed record Throughput(double Rate, double PerCpu);

    private static async Task<Throughput?> ThroughputAsync(TempDirectory temp, string label, int count, string[] extra, int agents, int perAgent, int warmup, string passwordFile)
    {
        var nodes = Enumerable.Range(0, count).Select(i => Node.Create(temp, $"{label}-{(char)('a' + i)}", "<disabled>yes</disabled>", null, passwordFile, extra)).ToList();
        var managers = new List<VigilProcess>();
        var streams = new List<AgentStream>();
        try
        {
            foreach (var node in nodes)
            {
                managers.Add(node.Start());
                await managers[^1].WaitForOutputAsync("vigil: manager ready", TimeSpan.FromSeconds(120));
            }

            var enrolled = new List<AgentCredentials>();
            for (var i = 0; i < agents; i++)
            {
                var data = temp.Combine($"{label}-agents", $"a{i:D3}");
                await AgentCredentials.EnrollAsync($"127.0.0.1:{nodes[0].EnrollmentPort}", nodes[i % count].AgentEndpoint, $"bench-{i:D3}", Password, data, null, CancellationToken.None);
                enrolled.Add(AgentCredentials.TryLoad(data)!);
            }

            foreach (var credentials in enrolled)
            {
                streams.Add(await AgentStream.ConnectAsync(credentials));
            }

            if (warmup > 0)
            {
                await Task.WhenAll(streams.Select((s, i) => Task.Run(() => s.SendAsync(i, 1, warmup))));
            }

            var cpuBefore = managers.Sum(m => CpuSeconds(m.Id));
            var start = Stopwatch.GetTimestamp();
            await Task.WhenAll(streams.Select((s, i) => Task.Run(() => s.SendAsync(i, warmup + 1, warmup + perAgent))));
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var cpu = managers.Sum(m => CpuSeconds(m.Id)) - cpuBefore;
            var events = agents * (double)perAgent;
            var result = new Throughput(events / seconds, events / cpu);
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{label}: {count} manager(s), {events:N0} events acknowledged in {seconds:F2} s = {result.Rate:N0} events/s; manager cpu {cpu:F1} s = {result.PerCpu:N0} events per manager cpu-second"));
            return result;
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException or Grpc.Core.RpcException)
        {
            await Console.Error.WriteLineAsync($"multi-manager: {label}: {ex.Message}\n{string.Join("\n----\n", managers.Select(m => m.Output))}");
            return null;
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }

            foreach (var manager in managers)
            {
                await manager.DisposeAsync();
            }
        }
    }

    private static async Task<int> FailoverAsync(TempDirectory temp, string[] shared, int rounds, string passwordFile)
    {
        var watched = temp.Combine("failover-watched");
        Directory.CreateDirectory(watched);
        var nodes = new[] { "a", "b" }.Select(n => Node.Create(temp, $"failover-{n}", "<disabled>yes</disabled>", watched, passwordFile, shared)).ToArray();
        var agentHome = Node.Create(temp, "failover-agent", $"""<disabled>no</disabled><max_eps>0</max_eps><directories realtime="yes">{watched}</directories>""", watched, passwordFile, []).Home;
        var managers = new VigilProcess?[2];
        VigilProcess? agent = null;
        using var stopWriting = new CancellationTokenSource();
        var written = 0;
        Task? writer = null;
        try
        {
            for (var i = 0; i < 2; i++)
            {
                managers[i] = nodes[i].Start();
                await managers[i]!.WaitForOutputAsync("vigil: manager ready", TimeSpan.FromSeconds(120));
            }

            await using (var enroll = VigilProcess.Start(
                ["enroll", "--manager", $"127.0.0.1:{nodes[0].EnrollmentPort}", "--agent-port", $"{nodes[0].AgentPort}", "--name", "failover", "--home", agentHome, "--data-dir", Path.Combine(agentHome, "data")],
                new Dictionary<string, string> { ["VIGIL_ENROLL_PASSWORD"] = Password }))
            {
                await enroll.WaitForOutputAsync("vigil: enrolled as agent", TimeSpan.FromSeconds(60));
            }

            agent = VigilProcess.Start(["agent", "--home", agentHome, "--data-dir", Path.Combine(agentHome, "data"), "--keep-alive", "1", "--manager", $"{nodes[0].AgentEndpoint},{nodes[1].AgentEndpoint}"]);
            await agent.WaitForOutputAsync($"Connected to the manager at {nodes[0].AgentEndpoint}", TimeSpan.FromSeconds(120));
            writer = Task.Run(async () =>
            {
                while (!stopWriting.IsCancellationRequested)
                {
                    await File.WriteAllTextAsync(Path.Combine(watched, $"f-{written:D6}.txt"), $"file {written}");
                    Interlocked.Increment(ref written);
                    await Task.Delay(20, CancellationToken.None);
                }
            });

            var times = new List<double>();
            var on = 0;
            for (var round = 0; round < rounds; round++)
            {
                var other = 1 - on;
                await WaitForAsync(() => Alerted(nodes[on], watched) > 0, TimeSpan.FromSeconds(60));
                var before = Lines(nodes[other].AlertsJson);
                var clock = Stopwatch.StartNew();
                await managers[on]!.KillAsync();
                await WaitForAsync(() => FirstBurstAlertAfter(nodes[other], watched, before), TimeSpan.FromSeconds(60));
                times.Add(clock.Elapsed.TotalMilliseconds);
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1}: {nodes[on].Name} killed, first alert on {nodes[other].Name} after {clock.Elapsed.TotalMilliseconds:F0} ms"));

                // Restarted, as systemd would; the agent stays on the other, which the next round kills.
                await managers[on]!.DisposeAsync();
                managers[on] = nodes[on].Start();
                await managers[on]!.WaitForOutputAsync("vigil: manager ready", TimeSpan.FromSeconds(120));
                on = other;
            }

            await stopWriting.CancelAsync();
            await writer;
            var files = Volatile.Read(ref written);
            // Every file alerted somewhere (a file alerted on both counts once here, and as duplicated below).
            await WaitForAsync(() => nodes.SelectMany(n => BurstPaths(n, watched)).Distinct(StringComparer.Ordinal).Count() >= files, TimeSpan.FromSeconds(120));
            await Task.Delay(TimeSpan.FromSeconds(2));
            var counts = nodes.SelectMany(n => BurstPaths(n, watched)).GroupBy(p => p, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var lost = files - counts.Count;
            var duplicated = counts.Values.Count(c => c > 1);
            times.Sort();
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"failover: {times.Count} SIGKILLs of the agent's manager, to the first alert on the other: p50 {Stats.Percentile(times, 50):F0} ms, p99 {Stats.Percentile(times, 99):F0} ms, max {times[^1]:F0} ms"));
            await Console.Out.WriteLineAsync($"failover: {files:N0} files written during the rounds: {lost} lost, {duplicated} with more than one alert (requirement: 0 and 0)");
            return lost == 0 && duplicated == 0 ? 0 : 1;
        }
        catch (TimeoutException ex)
        {
            await Console.Error.WriteLineAsync($"multi-manager: failover: {ex.Message}\n{agent?.Output}\n----\n{string.Join("\n----\n", managers.Select(m => m?.Output))}");
            return 1;
        }
        finally
        {
            await stopWriting.CancelAsync();
            if (writer is not null)
            {
                await writer.ContinueWith(_ => { }, TaskScheduler.Default);
            }

            if (agent is not null)
            {
                await agent.DisposeAsync();
            }

            foreach (var manager in managers)
            {
                if (manager is not null)
                {
                    await manager.DisposeAsync();
                }
            }
        }
    }

    private static bool FirstBurstAlertAfter(Node node, string watched, int before) =>
        ReadLines(node.AlertsJson).Skip(before).Any(line => PathOf(line)?.StartsWith(watched, StringComparison.Ordinal) == true);

    private static int Alerted(Node node, string watched) => BurstPaths(node, watched).Distinct(StringComparer.Ordinal).Count();

    private static IEnumerable<string> BurstPaths(Node node, string watched) =>
        ReadLines(node.AlertsJson).Select(PathOf).Where(p => p?.StartsWith(watched, StringComparison.Ordinal) == true).Select(p => p!);

    private static int Lines(string path) => ReadLines(path).Count;

    // The whole lines of an alerts.json (the last, partial one is not an alert yet).
    private static List<string> ReadLines(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = reader.ReadToEnd().Split('\n');
        return [.. lines[..^1]];
    }

    private static string? PathOf(string line)
    {
        using var document = JsonDocument.Parse(line);
        return document.RootElement.TryGetProperty("syscheck", out var syscheck) && syscheck.TryGetProperty("path", out var path) ? path.GetString() : null;
    }

    private static async Task WaitForAsync(Func<bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"not done within {timeout}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>A manager's (or the agent's) home with its own ports; the seed rules test <c>watched</c>.</summary>
    private sealed record Node(string Name, string Home, int AgentPort, int EnrollmentPort, string PasswordFile, string[] Extra)
    {
        public string AgentEndpoint => $"127.0.0.1:{AgentPort}";

        public string AlertsJson => Path.Combine(Home, "data", "logs", "alerts", "alerts.json");

        public static Node Create(TempDirectory temp, string name, string syscheck, string? watched, string passwordFile, string[] extra)
        {
            temp.WriteFile($"{name}/config/ossec.conf", $"""
                <ossec_config>
                  <syscheck>{syscheck}</syscheck>
                  <ruleset><rule_dir>{RepositoryPaths.Get("ruleset", "rules")}</rule_dir><rule_include>config/rules/local_rules.xml</rule_include></ruleset>
                </ossec_config>
                """);
            TestInstall.WriteSeedRules(temp, name, watched ?? "/srv/bench");
            return new Node(name, temp.Combine(name), FreePort(), FreePort(), passwordFile, extra);
        }

        public VigilProcess Start() => VigilProcess.Start(
            ["manager", "--home", Home, "--data-dir", Path.Combine(Home, "data"), "--port", $"{AgentPort}", "--enrollment-port", $"{EnrollmentPort}", "--password-file", PasswordFile, "--no-web", .. Extra],
            new Dictionary<string, string> { ["DOTNET_gcServer"] = "1" });
    }
}
