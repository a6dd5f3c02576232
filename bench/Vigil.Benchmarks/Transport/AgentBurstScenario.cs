using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Vigil.Tests.Common;

using static Vigil.Benchmarks.ChildProcesses;

namespace Vigil.Benchmarks.Transport;

/// <summary>
/// A real agent under a burst: `./vigil manager` and `./vigil agent` as child processes (enrolled with the password,
/// mutual TLS), the agent watching a directory in real time with syscheck's throttle off. Two ways of feeding it N new
/// files, each timed to the last file's alert in the manager's alerts.json (every event through the agent's durable
/// queue, the transport and the manager's analysis):
/// <list type="bullet">
/// <item><c>live</c>: the files are written into the watched directory while the agent runs, as fast as this process
/// can (the writer's own time is reported: it can be the bottleneck); the rate is files / (first write → last alert).</item>
/// <item><c>backlog</c>: the agent takes its baseline of the empty directory and stops; the files are written; the
/// agent starts again and its scan at start reports them all as added. The writer is out of the measure: the rate is
/// files / (agent start → last alert), which includes the agent's own start, and also files / (first alert → last
/// alert), the pipeline's steady rate.</item>
/// </list>
/// Measured as well: the agent's and the manager's RSS idle and at the peak (sampled every 50 ms) and their cpu.
/// Baseline in the same run: with <c>--baseline-dir DIR</c> (another checkout, built: `DIR/vigil` runs it) every
/// round runs the baseline first, then this checkout, <c>--runs</c> rounds (default 2); the medians and the ratio
/// are printed at the end. Without it, this checkout only. With <c>--burst-dir DIR</c> the watched directory is made
/// under DIR (a fresh tmpfs, say), so the writer is not slowed by the root file system (bench/README.md). With
/// <c>--rate R</c> the live writer is paced at R files a second: the agent's and the manager's cpu then show what a
/// steady trickle costs each event.
/// </summary>
internal sealed class AgentBurstScenario : IScenario
{
    private const string Password = "bench-enrollment-password";

    public string Name => "agent-burst";

    public string Description => "a real agent's events/s end to end and memory for a burst of N new files, live and from a backlog (--files 20000 [--runs 2] [--baseline-dir DIR] [--modes live,backlog] [--burst-dir DIR] [--rate FILES_PER_S])";

    private sealed record Result(string Build, string Mode, int Files, long Alerts, double WriteSeconds, double TotalSeconds, double SteadySeconds, long AgentPeakKb, double AgentCpu, double ManagerCpu)
    {
        public double Rate => Alerts / TotalSeconds;

        public double SteadyRate => SteadySeconds > 0 ? Alerts / SteadySeconds : 0;
    }

    public async Task<int> RunAsync(string[] args)
    {
        var files = Option(args, "--files", 20_000);
        var runs = Option(args, "--runs", 2);
        var baseline = TextOption(args, "--baseline-dir") is { } dir ? Path.GetFullPath(dir) : null;
        var modes = (TextOption(args, "--modes") ?? "live,backlog").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var burstDir = TextOption(args, "--burst-dir") is { } burst ? Path.GetFullPath(burst) : null;
        var rate = Option(args, "--rate", 0);
        if (burstDir is not null && !Directory.Exists(burstDir))
        {
            await Console.Error.WriteLineAsync($"agent-burst: --burst-dir {burstDir} does not exist");
            return 2;
        }

        if (modes.Length == 0 || modes.Any(m => m is not ("live" or "backlog")))
        {
            await Console.Error.WriteLineAsync("agent-burst: --modes takes live, backlog or both (live,backlog)");
            return 2;
        }

        if (!await EnsureBuiltAsync() || (baseline is not null && !await EnsureBuiltAsync(baseline)))
        {
            return 2;
        }

        await Console.Out.WriteLineAsync($"host: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; one agent, {files:N0} new files; {runs} round(s)"
            + (baseline is null ? "" : $"; baseline {baseline}") + (burstDir is null ? "" : $"; the burst's files under {burstDir}") + (rate > 0 ? $"; live written at {rate:N0} files/s" : ""));
        var results = new List<Result>();
        var ok = true;
        for (var round = 1; round <= runs; round++)
        {
            foreach (var (build, checkout) in baseline is null ? [("head", (string?)null)] : new[] { ("baseline", (string?)baseline), ("head", null) })
            {
                foreach (var mode in modes)
                {
                    var result = await RunOnceAsync(build, checkout, mode, files, burstDir, rate);
                    if (result is null)
                    {
                        ok = false;
                        continue;
                    }

                    results.Add(result);
                    ok &= result.Alerts >= files;
                    var steady = mode == "backlog"
                        ? string.Create(CultureInfo.InvariantCulture, $" (from agent start); first → last alert {result.SteadySeconds:F1} s = {result.SteadyRate:N0} events/s")
                        : " (from the first write)";
                    await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"round {round} {build,-8} {mode,-7}: {result.Alerts:N0} alerts; written in {result.WriteSeconds:F1} s; {result.TotalSeconds:F1} s to the last alert = {result.Rate:N0} events/s{steady}; agent peak {result.AgentPeakKb / 1024.0:F0} MiB, cpu {result.AgentCpu:F1} s; manager cpu {result.ManagerCpu:F1} s"));
                }
            }
        }

        await Console.Out.WriteLineAsync("medians:");
        foreach (var group in results.GroupBy(r => (r.Mode, r.Build)))
        {
            var extra = group.Key.Mode == "backlog"
                ? string.Create(CultureInfo.InvariantCulture, $", {Median(group.Select(r => r.SteadyRate)):N0} events/s first → last alert")
                : string.Create(CultureInfo.InvariantCulture, $", writing {Median(group.Select(r => r.WriteSeconds)):F1} s");
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  {group.Key.Build,-8} {group.Key.Mode,-7}: {Median(group.Select(r => r.Rate)):N0} events/s end to end{extra}"));
        }

        if (baseline is not null)
        {
            foreach (var mode in modes)
            {
                var head = Median(results.Where(r => r.Mode == mode && r.Build == "head").Select(r => r.Rate));
                var before = Median(results.Where(r => r.Mode == mode && r.Build == "baseline").Select(r => r.Rate));
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  ratio head/baseline {mode}: {head / Math.Max(before, 1):F2}x"));
            }
        }

        return ok ? 0 : 1;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static async Task<Result?> RunOnceAsync(string build, string? checkout, string mode, int files, string? burstDir, int rate)
    {
        var root = checkout ?? RepositoryPaths.Get();
        using var temp = new TempDirectory("vigil-bench-agent-burst");
        using var burst = burstDir is null ? null : new TempDirectory("vigil-bench-agent-burst", burstDir);
        var managerHome = temp.Combine("manager");
        var managerData = Path.Combine(managerHome, "data");
        var agentHome = temp.Combine("agent");
        var agentData = Path.Combine(agentHome, "data");
        var watched = burst?.Combine("watched") ?? temp.Combine("watched");
        Directory.CreateDirectory(watched);
        var content = Encoding.ASCII.GetBytes("a benign file of the burst\n");
        Writer.WarmUp(burst?.Combine("warm-up") ?? temp.Combine("warm-up"), content);
        WriteConfig(temp, root, "manager", "<disabled>yes</disabled>");
        WriteConfig(temp, root, "agent", $"""<disabled>no</disabled><max_eps>0</max_eps><directories realtime="yes">{watched}</directories>""");
        var localRules = await File.ReadAllTextAsync(Path.Combine(root, "config", "rules", "local_rules.xml"));
        temp.WriteFile("manager/config/rules/local_rules.xml", localRules);
        temp.WriteFile("agent/config/rules/local_rules.xml", localRules);
        var passwordFile = temp.WriteFile("password", Password + "\n");
        var agentPort = FreePort();
        var enrollmentPort = FreePort();
        string[] agentArguments = ["agent", "--home", agentHome, "--data-dir", agentData];

        using var manager = Start(checkout, ["manager", "--home", managerHome, "--data-dir", managerData, "--port", $"{agentPort}", "--enrollment-port", $"{enrollmentPort}", "--password-file", passwordFile, "--web-port", "0"]);
        Process? agent = null;
        try
        {
            await WaitForAsync(manager, "vigil: manager ready", TimeSpan.FromSeconds(120));
            using (var enroll = Start(checkout, ["enroll", "--manager", $"127.0.0.1:{enrollmentPort}", "--agent-port", $"{agentPort}", "--name", "burst", "--home", agentHome, "--data-dir", agentData],
                new Dictionary<string, string> { ["VIGIL_ENROLL_PASSWORD"] = Password }))
            {
                await enroll.WaitForExitAsync();
                if (enroll.ExitCode != 0)
                {
                    await Console.Error.WriteLineAsync($"agent-burst: enrollment failed:\n{Output(enroll)}");
                    return null;
                }
            }

            agent = Start(checkout, agentArguments);
            await WaitForAsync(agent, "vigil: agent ready", TimeSpan.FromSeconds(120));
            await Task.Delay(TimeSpan.FromSeconds(2)); // connected, and settled
            var alertsJson = Path.Combine(managerData, "logs", "alerts", "alerts.json");
            var counter = new AlertCounter(alertsJson);
            var paths = BurstPaths(watched, files);
            var before = counter.Count();
            var managerCpuBefore = CpuSeconds(manager.Id);
            var clock = new Stopwatch();
            TimeSpan written;
            double agentCpuBefore;
            if (mode == "live")
            {
                agentCpuBefore = CpuSeconds(agent.Id);
                clock.Start();
                await WriteFilesAsync(paths, content, rate);
                written = clock.Elapsed;
            }
            else
            {
                // The baseline of the empty directory is taken; the files appear while the agent is stopped.
                agent.Kill(entireProcessTree: true);
                await agent.WaitForExitAsync();
                agent.Dispose();
                var writing = Stopwatch.StartNew();
                await WriteFilesAsync(paths, content, rate: 0);
                written = writing.Elapsed;
                clock.Start();
                agent = Start(checkout, agentArguments);
                agentCpuBefore = 0;
            }

            long agentPeak = 0;
            using var sampling = new CancellationTokenSource();
            var sampled = agent;
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    agentPeak = Math.Max(agentPeak, RssKb(sampled.Id, "VmRSS:"));
                    await Task.Delay(50, CancellationToken.None);
                }
            });

            TimeSpan? first = null;
            long alerts = 0;
            while (alerts < files && clock.Elapsed < TimeSpan.FromMinutes(10) && !agent.HasExited)
            {
                alerts = counter.Count() - before;
                if (alerts > 0 && first is null)
                {
                    first = clock.Elapsed;
                }

                await Task.Delay(50);
            }

            var total = clock.Elapsed.TotalSeconds;
            await sampling.CancelAsync();
            await sampler;
            var agentCpu = CpuSeconds(agent.Id) - agentCpuBefore;
            var managerCpu = CpuSeconds(manager.Id) - managerCpuBefore;
            if (alerts < files)
            {
                await Console.Error.WriteLineAsync($"agent-burst: {build} {mode}: only {alerts:N0} of {files:N0} alerts. Agent:\n{Output(agent)}");
            }

            return new Result(build, mode, files, alerts, written.TotalSeconds, total, total - (first?.TotalSeconds ?? total), agentPeak, agentCpu, managerCpu);
        }
        finally
        {
            foreach (var process in (Process?[])[agent, manager])
            {
                if (process is { HasExited: false })
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }

            agent?.Dispose();
        }
    }

    // The burst's paths as open(2) takes them (UTF-8, null-terminated), built before the clock starts.
    private static byte[][] BurstPaths(string directory, int files) =>
        [.. Enumerable.Range(0, files).Select(i => Encoding.UTF8.GetBytes(Path.Combine(directory, $"f{i:D6}.txt") + "\0"))];

    // As fast as it can: open(2), write(2) and close(2) on a thread of their own, with the paths built before the clock
    // starts, as a native writer (tar, cp) does. The framework's file API costs this writer several times the kernel's
    // own work per file (a lock, a status and a truncation on each open, and this process's JIT on the way), and on two
    // cores the writer's cpu is taken from the agent and the manager it measures.
    // With a rate, paced (20 files, then a wait until they are due): a steady trickle, where each event costs more.
    private static Task WriteFilesAsync(byte[][] paths, byte[] content, int rate) => rate <= 0
        ? Task.Factory.StartNew(
            () =>
            {
                foreach (var path in paths)
                {
                    Writer.Write(path, content);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)
        : Task.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < paths.Length; i++)
            {
                Writer.Write(paths[i], content);
                if (i % 20 == 19 && TimeSpan.FromSeconds((i + 1.0) / rate) - clock.Elapsed is { Ticks: > 0 } ahead)
                {
                    await Task.Delay(ahead, TimeProvider.System);
                }
            }
        });

    // The writer's system calls, called before the measure too (on files outside the watched tree), so that none of
    // them is compiled inside it.
    private static unsafe class Writer
    {
        private const int WriteOnly = 0x1;
        private const int Create = 0x40;
        private const int Truncate = 0x200;
        private const int CloseOnExec = 0x80000;

        public static void Write(byte[] nullTerminatedPath, byte[] content)
        {
            int fd;
            fixed (byte* path = nullTerminatedPath)
            {
                fd = Open(path, WriteOnly | Create | Truncate | CloseOnExec, 0x1A4); // 0644
            }

            if (fd < 0)
            {
                throw new IOException($"open {Encoding.UTF8.GetString(nullTerminatedPath, 0, nullTerminatedPath.Length - 1)}: errno {Marshal.GetLastPInvokeError()}");
            }

            try
            {
                fixed (byte* data = content)
                {
                    if (WriteBytes(fd, data, content.Length) != content.Length)
                    {
                        throw new IOException($"write: errno {Marshal.GetLastPInvokeError()}");
                    }
                }
            }
            finally
            {
                _ = Close(fd);
            }
        }

        public static void WarmUp(string directory, byte[] content)
        {
            Directory.CreateDirectory(directory);
            for (var i = 0; i < 200; i++)
            {
                Write(Encoding.UTF8.GetBytes(Path.Combine(directory, $"w{i:D3}") + "\0"), content);
            }

            Directory.Delete(directory, recursive: true);
        }

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        private static extern int Open(byte* path, int flags, int mode);

        [DllImport("libc", EntryPoint = "write", SetLastError = true)]
        private static extern nint WriteBytes(int fd, byte* buffer, nint count);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        private static extern int Close(int fd);
    }

    // FIM "file added" alerts (rule 554) for the burst's files; the connection notices and the like are not counted.
    // Read on from where the last count ended (whole lines only), as bytes, so counting does not compete with the
    // pipeline: 20,000 alerts are about 30 MB of JSON.
    private sealed class AlertCounter(string path)
    {
        private static readonly byte[] s_rule = Encoding.ASCII.GetBytes("\"id\":\"554\"");
        private static readonly byte[] s_burstFile = Encoding.ASCII.GetBytes("/watched/f");
        private readonly byte[] _buffer = new byte[1 << 20];
        private long _offset;
        private int _partial;
        private long _count;

        public long Count()
        {
            if (!File.Exists(path))
            {
                return _count;
            }

            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            while (true)
            {
                var read = RandomAccess.Read(handle, _buffer.AsSpan(_partial), _offset);
                if (read == 0)
                {
                    return _count;
                }

                _offset += read;
                var text = _buffer.AsSpan(0, _partial + read);
                int end;
                while ((end = text.IndexOf((byte)'\n')) >= 0)
                {
                    var line = text[..end];
                    if (line.IndexOf(s_rule) >= 0 && line.IndexOf(s_burstFile) >= 0)
                    {
                        _count++;
                    }

                    text = text[(end + 1)..];
                }

                if (text.Length == _buffer.Length)
                {
                    throw new InvalidOperationException($"agent-burst: a line of {path} is over {_buffer.Length:N0} bytes");
                }

                text.CopyTo(_buffer);
                _partial = text.Length;
            }
        }
    }

    // Both hosts get the ruleset with the seed's local rules in their configuration (the manager loads them; the agent reads none).
    private static void WriteConfig(TempDirectory temp, string checkout, string relative, string syscheck)
    {
        var ruleset = $"""<ruleset><rule_dir>{Path.Combine(checkout, "ruleset", "rules")}</rule_dir><rule_include>config/rules/local_rules.xml</rule_include></ruleset>""";
        temp.WriteFile($"{relative}/config/ossec.conf", $"""
            <ossec_config>
              <syscheck>{syscheck}</syscheck>
              {ruleset}
            </ossec_config>
            """);
    }

    private static readonly Dictionary<Process, StringBuilder> s_outputs = [];

    // Through the launcher, as users run it.
    private static Process Start(string? checkout, string[] arguments, Dictionary<string, string>? environment = null)
    {
        var info = Launcher(arguments, checkout);
        foreach (var (key, value) in environment ?? [])
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("vigil did not start");
        var output = new StringBuilder();
        lock (s_outputs)
        {
            s_outputs[process] = output;
        }

        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static string Output(Process process)
    {
        StringBuilder output;
        lock (s_outputs)
        {
            output = s_outputs[process];
        }

        lock (output)
        {
            return output.ToString();
        }
    }

    private static async Task WaitForAsync(Process process, string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!Output(process).Contains(text, StringComparison.Ordinal))
        {
            if (process.HasExited || clock.Elapsed > timeout)
            {
                throw new InvalidOperationException($"agent-burst: no \"{text}\":\n{Output(process)}");
            }

            await Task.Delay(50);
        }
    }

}
