using System.Diagnostics;
using System.Globalization;
using Grpc.Net.Client;
using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Core;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;
using Vigil.Tests.Common;
using Vigil.Transport.Agent;
using Vigil.Transport.Protocol;

using static Vigil.Benchmarks.ChildProcesses;

namespace Vigil.Benchmarks.Transport;

/// <summary>
/// `vigil manager` as a child process and N simulated agents in this process: each enrolled for real (password,
/// CSR, certificate signed by the manager's CA) and streaming FIM events over its own mutual-TLS gRPC connection,
/// as fast as the manager's acknowledgements allow (window 4096, as the agent's). Throughput is events whose alerts
/// the manager acknowledged as durably written, per second, from the first event sent to the last acknowledgement;
/// alerts.json is counted afterwards. Memory: the manager's peak RSS (sampled every 100 ms) and this process's peak
/// (VmHWM). Baseline in the same run: the same events through the analysis pipeline alone (decode, rules, alerts.json
/// and alerts.log written and fsynced every 4096 events, as the manager does), on one thread.
/// </summary>
internal sealed class ManagerThroughputScenario : IScenario
{
    private const string Password = "bench-enrollment-password";
    private const int Window = 4096;

    public string Name => "manager-throughput";

    public string Description => "alerts/s written by `vigil manager` for N mutual-TLS agents streaming FIM events (target >= 50,000) (--agents 100 --events 2000 --warmup 5000)";

    public async Task<int> RunAsync(string[] args)
    {
        var agents = Option(args, "--agents", 100);
        var perAgent = Option(args, "--events", 2000);
        var warmup = Option(args, "--warmup", 5000);
        var vigilDll = RepositoryPaths.Get("artifacts", "bin", "Vigil.Cli", "release", "vigil.dll");
        if (!File.Exists(vigilDll))
        {
            await Console.Error.WriteLineAsync($"manager-throughput: build the CLI first: dotnet build src/Vigil.Cli -c Release ({vigilDll} is missing)");
            return 2;
        }

        using var temp = new TempDirectory("vigil-bench-manager");
        var home = temp.Combine("manager");
        var data = Path.Combine(home, "data");
        WriteHome(temp, home);
        var agentPort = FreePort();
        var enrollmentPort = FreePort();
        var passwordFile = temp.WriteFile("password", Password + "\n");

        await Console.Out.WriteLineAsync($"host: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; {agents} agents x {perAgent:N0} FIM events = {agents * perAgent:N0} events");
        var baseline = Baseline(home, agents, perAgent, temp.Combine("baseline-alerts"));
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"baseline: analysis pipeline alone, same events, alerts files written: {baseline:N0} events/s"));

        using var manager = StartManager(home, data, agentPort, enrollmentPort, passwordFile);
        var output = new System.Text.StringBuilder();
        manager.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        manager.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        manager.BeginOutputReadLine();
        manager.BeginErrorReadLine();
        try
        {
            var clock = Stopwatch.StartNew();
            while (!Text(output).Contains("vigil: manager ready", StringComparison.Ordinal))
            {
                if (manager.HasExited || clock.Elapsed > TimeSpan.FromSeconds(120))
                {
                    await Console.Error.WriteLineAsync($"manager-throughput: the manager did not start:\n{Text(output)}");
                    return 1;
                }

                await Task.Delay(50);
            }

            var enrolled = new List<AgentCredentials>();
            var enrollClock = Stopwatch.StartNew();
            for (var i = 0; i < agents; i++)
            {
                var agentData = temp.Combine("agents", $"a{i:D3}");
                await AgentCredentials.EnrollAsync($"127.0.0.1:{enrollmentPort}", $"127.0.0.1:{agentPort}", $"bench-{i:D3}", Password, agentData, null, CancellationToken.None);
                enrolled.Add(AgentCredentials.TryLoad(agentData)!);
            }

            await Console.Out.WriteLineAsync($"enrolled {agents} agents in {enrollClock.Elapsed.TotalSeconds:F1} s");

            var streams = new List<AgentStream>();
            foreach (var credentials in enrolled)
            {
                streams.Add(await AgentStream.ConnectAsync(credentials));
            }

            // A manager runs for days: warm it up (JIT tiers, caches, the index's first pages) before measuring.
            if (warmup > 0)
            {
                var warmClock = Stopwatch.StartNew();
                await Task.WhenAll(streams.Select((s, i) => Task.Run(() => s.SendAsync(i, 1, warmup))));
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"warm-up: {agents * warmup:N0} events in {warmClock.Elapsed.TotalSeconds:F2} s (not counted)"));
            }

            var managerPeak = 0L;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    managerPeak = Math.Max(managerPeak, RssKb(manager.Id, "VmRSS:"));
                    await Task.Delay(100, CancellationToken.None);
                }
            });
            var alertsBefore = CountLines(Path.Combine(data, "logs", "alerts", "alerts.json"));
            var indexedBefore = IndexCount(data);
            var managerCpuBefore = CpuSeconds(manager.Id);
            var ownCpuBefore = CpuSeconds(Environment.ProcessId);
            var start = Stopwatch.GetTimestamp();
            await Task.WhenAll(streams.Select((s, i) => Task.Run(() => s.SendAsync(i, warmup + 1, warmup + perAgent))));
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var managerCpu = CpuSeconds(manager.Id) - managerCpuBefore;
            var ownCpu = CpuSeconds(Environment.ProcessId) - ownCpuBefore;
            await sampling.CancelAsync();
            await sampler;
            var alerts = CountLines(Path.Combine(data, "logs", "alerts", "alerts.json")) - alertsBefore;

            // The alert index is fed after the acknowledgement, from a backlog of its own: how long it took to catch up.
            var catchUp = Stopwatch.StartNew();
            while (IndexCount(data) - indexedBefore < agents * (long)perAgent && catchUp.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(100);
            }

            var indexSeconds = seconds + catchUp.Elapsed.TotalSeconds;
            var rate = agents * (double)perAgent / seconds;
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }

            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"manager: {agents * perAgent:N0} events acknowledged in {seconds:F2} s = {rate:N0} events/s; {alerts:N0} alerts in alerts.json ({Math.Max(0, alerts - (agents * perAgent)):N0} beyond one per event: connection notices)"));
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"alert index: all {agents * perAgent:N0} indexed {catchUp.Elapsed.TotalSeconds:F2} s after the last acknowledgement = {agents * perAgent / indexSeconds:N0} events/s acknowledged and indexed"));
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"memory: manager peak RSS {managerPeak / 1024.0:F0} MiB; simulated agents (this process, {agents} TLS connections, baseline included) peak RSS {RssKb(Environment.ProcessId, "VmHWM:") / 1024.0:F0} MiB"));
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"cpu during the run: manager {managerCpu:F1} s ({agents * perAgent / managerCpu:N0} events per manager cpu-second), simulated agents {ownCpu:F1} s, of {seconds * Environment.ProcessorCount:F1} core-seconds available"));
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"ratio manager/baseline: {rate / baseline:F2}; target 50,000 events/s: {(rate >= 50_000 ? "met" : $"NOT met ({rate / 50_000:P0} of it)")}"));
            return 0;
        }
        finally
        {
            if (!manager.HasExited)
            {
                manager.Kill(entireProcessTree: true);
                await manager.WaitForExitAsync();
            }
        }
    }

    private static long IndexCount(string data)
    {
        var path = Path.Combine(data, "index", "alerts.db");
        if (!File.Exists(path))
        {
            return 0;
        }

        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT coalesce(max(seq), 0) FROM alerts";
        return (long)command.ExecuteScalar()!;
    }

    internal static string FimEvent(int agent, int i) =>
        """{"type":"event","data":{"path":"/srv/bench/a""" + agent.ToString("D3", CultureInfo.InvariantCulture) + "/file-" + i.ToString("D6", CultureInfo.InvariantCulture)
        + """.txt","version":2.0,"mode":"realtime","type":"added","timestamp":1700000000,"attributes":{"type":"file","size":68,"perm":"rw-r--r--","uid":"0","gid":"0","user_name":"root","group_name":"root","inode":"1704505","mtime":1700000000,"hash_md5":""" + "\"" + Eicar.Md5
        + "\",\"hash_sha1\":\"" + Eicar.Sha1 + "\",\"hash_sha256\":\"" + Eicar.Sha256 + "\"}}}";

    // The same events, as the manager hands them to analysis (location rewritten to the authenticated agent).
    private static double Baseline(string home, int agents, int perAgent, string alertsDirectory)
    {
        var config = OssecConfigLoader.Load(Path.Combine(home, "config", "ossec.conf"), new ConfigLoadOptions { Home = home }).Config;
        var rules = AnalysisFactory.LoadRules(config, new DiagnosticBag());
        var messages = new List<EventMessage>(agents * perAgent);
        for (var i = 0; i < perAgent; i++)
        {
            for (var agent = 0; agent < agents; agent++)
            {
                messages.Add(new EventMessage(EventMessage.SyscheckQueue, $"[{agent + 1:D3}] (bench-{agent:D3}) 127.0.0.1->syscheck", FimEvent(agent, i)));
            }
        }

        var rates = new List<double>();
        for (var round = 0; round < 3; round++)
        {
            var directory = Path.Combine(alertsDirectory, $"round-{round}");
            using var writer = AlertFileWriter.Open(directory, jsonOutput: true, logOutput: true);
            var pipeline = AnalysisFactory.Create(config, rules, writer, TimeProvider.System);
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < messages.Count; i++)
            {
                pipeline.Process(messages[i]);
                if (i % Window == Window - 1)
                {
                    writer.Flush(durable: true);
                }
            }

            writer.Flush(durable: true);
            rates.Add(messages.Count / Stopwatch.GetElapsedTime(start).TotalSeconds);
            Directory.Delete(directory, recursive: true);
        }

        return Stats.Median(rates);
    }

    // Through the launcher, as users run it: the runtime settings it gives the manager are part of what is measured.
    private static Process StartManager(string home, string data, int agentPort, int enrollmentPort, string passwordFile) =>
        Process.Start(Launcher(["manager", "--home", home, "--data-dir", data, "--port", $"{agentPort}", "--enrollment-port", $"{enrollmentPort}", "--password-file", passwordFile]))
        ?? throw new InvalidOperationException("vigil did not start");

    private static void WriteHome(TempDirectory temp, string home)
    {
        var relative = Path.GetRelativePath(temp.Path, home);
        temp.WriteFile($"{relative}/config/ossec.conf", $"""
            <ossec_config>
              <syscheck><disabled>yes</disabled></syscheck>
              <ruleset>
                <rule_dir>{RepositoryPaths.Get("ruleset", "rules")}</rule_dir>
                <rule_include>config/rules/local_rules.xml</rule_include>
              </ruleset>
            </ossec_config>
            """);
        temp.WriteFile($"{relative}/config/rules/local_rules.xml", File.ReadAllText(RepositoryPaths.Get("config", "rules", "local_rules.xml")));
    }

    private static long CountLines(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var buffer = new byte[1 << 16];
        long lines = 0;
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        }

        return lines;
    }

    private static string Text(System.Text.StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    /// <summary>One simulated agent: the agent's wire protocol on its own mutual-TLS connection, without its durable queue.</summary>
    internal sealed class AgentStream : IAsyncDisposable
    {
        private readonly SocketsHttpHandler _handler;
        private readonly GrpcChannel _channel;
        private readonly Grpc.Core.AsyncDuplexStreamingCall<AgentMessage, ManagerMessage> _call;
        private readonly SemaphoreSlim _changed = new(0);
        private readonly Task _reader;
        private long _acknowledged;

        private AgentStream(SocketsHttpHandler handler, GrpcChannel channel, Grpc.Core.AsyncDuplexStreamingCall<AgentMessage, ManagerMessage> call)
        {
            _handler = handler;
            _channel = channel;
            _call = call;
            _reader = Task.Run(async () =>
            {
                while (await _call.ResponseStream.MoveNext(CancellationToken.None))
                {
                    if (_call.ResponseStream.Current.BodyCase == ManagerMessage.BodyOneofCase.Acknowledged)
                    {
                        Volatile.Write(ref _acknowledged, (long)_call.ResponseStream.Current.Acknowledged);
                        _changed.Release();
                    }
                }
            });
        }

        public static async Task<AgentStream> ConnectAsync(AgentCredentials credentials)
        {
            var handler = credentials.CreateHandler();
            var channel = GrpcChannel.ForAddress($"https://{credentials.Manager}", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
            var call = new AgentChannel.AgentChannelClient(channel).Connect();
            await call.RequestStream.WriteAsync(new AgentMessage { Hello = new Hello { Version = VigilVersion.Current } });
            if (!await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                throw new InvalidOperationException("the manager closed the stream");
            }

            return new AgentStream(handler, channel, call);
        }

        /// <summary>Sends events <paramref name="first"/>..<paramref name="last"/> and waits until the manager has acknowledged them all.</summary>
        public async Task SendAsync(int agent, int first, int last)
        {
            // As the agent sends its queue: up to 64 events a message, within the window of unacknowledged events.
            for (var sequence = first; sequence <= last;)
            {
                while (sequence - Volatile.Read(ref _acknowledged) > Window)
                {
                    await _changed.WaitAsync(TimeSpan.FromMilliseconds(50));
                }

                var events = new EventBatch();
                var end = Math.Min(last, Math.Min(sequence + (AgentConnection.MaxBatchEvents - 1), (int)Volatile.Read(ref _acknowledged) + Window));
                for (; sequence <= end; sequence++)
                {
                    events.Events.Add(new AgentEvent { Sequence = (ulong)sequence, Queue = EventMessage.SyscheckQueue.ToString(), Location = "syscheck", Message = FimEvent(agent, sequence) });
                }

                await _call.RequestStream.WriteAsync(new AgentMessage { Events = events });
            }

            var deadline = Stopwatch.StartNew();
            while (Volatile.Read(ref _acknowledged) < last)
            {
                if (deadline.Elapsed > TimeSpan.FromMinutes(10) || _reader.IsCompleted)
                {
                    throw new InvalidOperationException($"agent {agent}: acknowledged {Volatile.Read(ref _acknowledged)} of {last}");
                }

                await _changed.WaitAsync(TimeSpan.FromMilliseconds(50));
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _call.RequestStream.CompleteAsync();
            _call.Dispose();
            await _reader.ContinueWith(_ => { }, TaskScheduler.Default);
            _channel.Dispose();
            _handler.Dispose();
            _changed.Dispose();
        }
    }
}
