using System.Diagnostics;
using System.Globalization;
using System.Text;
using Vigil.Tests.Common;

using static Vigil.Benchmarks.ChildProcesses;

namespace Vigil.Benchmarks.Transport;

/// <summary>
/// A real agent under a burst: `./vigil manager` and `./vigil agent` as child processes (enrolled with the password,
/// mutual TLS), the agent watching a directory in real time with syscheck's throttle off; N files are written into it
/// as fast as this process can. Measured: the agent's and the manager's peak RSS (sampled every 50 ms), the agent's
/// cpu, and the time from the first file to the last file's alert in alerts.json (every event through the agent's
/// durable queue). Baseline in the same run: the two processes' RSS when idle, just before the burst.
/// </summary>
internal sealed class AgentBurstScenario : IScenario
{
    private const string Password = "bench-enrollment-password";

    public string Name => "agent-burst";

    public string Description => "a real agent's and the manager's memory while the agent's FIM sends a burst of N new files (--files 20000)";

    public async Task<int> RunAsync(string[] args)
    {
        var files = Option(args, "--files", 20_000);
        if (!File.Exists(RepositoryPaths.Get("artifacts", "bin", "Vigil.Cli", "release", "vigil.dll")))
        {
            await Console.Error.WriteLineAsync("agent-burst: build the CLI first: dotnet build src/Vigil.Cli -c Release");
            return 2;
        }

        using var temp = new TempDirectory("vigil-bench-agent-burst");
        var managerHome = temp.Combine("manager");
        var managerData = Path.Combine(managerHome, "data");
        var agentHome = temp.Combine("agent");
        var agentData = Path.Combine(agentHome, "data");
        var watched = temp.Combine("watched");
        Directory.CreateDirectory(watched);
        WriteConfig(temp, "manager", "<disabled>yes</disabled>");
        WriteConfig(temp, "agent", $"""<disabled>no</disabled><max_eps>0</max_eps><directories realtime="yes">{watched}</directories>""");
        var localRules = await File.ReadAllTextAsync(RepositoryPaths.Get("config", "rules", "local_rules.xml"));
        temp.WriteFile("manager/config/rules/local_rules.xml", localRules);
        temp.WriteFile("agent/config/rules/local_rules.xml", localRules);
        var passwordFile = temp.WriteFile("password", Password + "\n");
        var agentPort = FreePort();
        var enrollmentPort = FreePort();

        await Console.Out.WriteLineAsync($"host: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; one agent, {files:N0} new files written into its watched directory");
        using var manager = Start(["manager", "--home", managerHome, "--data-dir", managerData, "--port", $"{agentPort}", "--enrollment-port", $"{enrollmentPort}", "--password-file", passwordFile, "--web-port", "0"]);
        Process? agent = null;
        try
        {
            await WaitForAsync(manager, "vigil: manager ready", TimeSpan.FromSeconds(120));
            using (var enroll = Start(["enroll", "--manager", $"127.0.0.1:{enrollmentPort}", "--agent-port", $"{agentPort}", "--name", "burst", "--home", agentHome, "--data-dir", agentData],
                new Dictionary<string, string> { ["VIGIL_ENROLL_PASSWORD"] = Password }))
            {
                await enroll.WaitForExitAsync();
                if (enroll.ExitCode != 0)
                {
                    await Console.Error.WriteLineAsync($"agent-burst: enrollment failed:\n{Output(enroll)}");
                    return 1;
                }
            }

            agent = Start(["agent", "--home", agentHome, "--data-dir", agentData]);
            await WaitForAsync(agent, "vigil: agent ready", TimeSpan.FromSeconds(120));
            await Task.Delay(TimeSpan.FromSeconds(2)); // connected, and settled
            var alertsJson = Path.Combine(managerData, "logs", "alerts", "alerts.json");
            var idleAgent = RssKb(agent.Id, "VmRSS:");
            var idleManager = RssKb(manager.Id, "VmRSS:");
            var before = CountFileAlerts(alertsJson);
            var agentCpuBefore = CpuSeconds(agent.Id);
            var managerCpuBefore = CpuSeconds(manager.Id);

            long agentPeak = 0, managerPeak = 0;
            using var sampling = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    agentPeak = Math.Max(agentPeak, RssKb(agent.Id, "VmRSS:"));
                    managerPeak = Math.Max(managerPeak, RssKb(manager.Id, "VmRSS:"));
                    await Task.Delay(50, CancellationToken.None);
                }
            });

            var clock = Stopwatch.StartNew();
            var content = Encoding.ASCII.GetBytes("a benign file of the burst\n");
            for (var i = 0; i < files; i++)
            {
                await File.WriteAllBytesAsync(Path.Combine(watched, $"f{i:D6}.txt"), content);
            }

            var written = clock.Elapsed;
            long alerts = 0;
            while ((alerts = CountFileAlerts(alertsJson) - before) < files && clock.Elapsed < TimeSpan.FromMinutes(10) && !agent.HasExited)
            {
                await Task.Delay(100);
            }

            var seconds = clock.Elapsed.TotalSeconds;
            await sampling.CancelAsync();
            await sampler;
            var agentCpu = CpuSeconds(agent.Id) - agentCpuBefore;
            var managerCpu = CpuSeconds(manager.Id) - managerCpuBefore;
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"burst: {files:N0} files written in {written.TotalSeconds:F1} s; {alerts:N0} of their alerts in alerts.json after {seconds:F1} s = {alerts / seconds:N0} events/s end to end"));
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"agent: RSS idle {idleAgent / 1024.0:F0} MiB, peak during the burst {agentPeak / 1024.0:F0} MiB; cpu {agentCpu:F1} s"));
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"manager: RSS idle {idleManager / 1024.0:F0} MiB, peak during the burst {managerPeak / 1024.0:F0} MiB; cpu {managerCpu:F1} s"));
            return alerts >= files ? 0 : 1;
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

    // FIM "file added" alerts (rule 554) for the burst's files; the connection notices and the like are not counted.
    private static long CountFileAlerts(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        long count = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Contains("\"id\":\"554\"", StringComparison.Ordinal) && line.Contains("/watched/f", StringComparison.Ordinal))
            {
                count++;
            }
        }

        return count;
    }

    // Both hosts get the ruleset with the seed's local rules (each checks its whole configuration at start).
    private static void WriteConfig(TempDirectory temp, string relative, string syscheck)
    {
        var ruleset = $"""<ruleset><rule_dir>{RepositoryPaths.Get("ruleset", "rules")}</rule_dir><rule_include>config/rules/local_rules.xml</rule_include></ruleset>""";
        temp.WriteFile($"{relative}/config/ossec.conf", $"""
            <ossec_config>
              <syscheck>{syscheck}</syscheck>
              {ruleset}
            </ossec_config>
            """);
    }

    private static readonly Dictionary<Process, StringBuilder> s_outputs = [];

    // Through the launcher, as users run it.
    private static Process Start(string[] arguments, Dictionary<string, string>? environment = null)
    {
        var info = Launcher(arguments);
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
