using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Vigil.Tests.Common;

using static Vigil.Benchmarks.ChildProcesses;

namespace Vigil.Benchmarks.Engines;

/// <summary>
/// The latency YARA adds to a new small file, through the real product: `vigil run` as a child process (FIM,
/// analysis, the YARA engine's worker) watching a temp directory, with a custom-vigil-yara block whose rules live
/// outside it. Each run writes a small file holding a webshell line and closes it, then polls alerts.json (1 ms) for
/// the file's FIM alert (554) and its YARA alert (200601). Baseline in the same run and process: close → FIM alert;
/// the figure is close → YARA alert, and per file the YARA alert's lag behind its own FIM alert (target p50 ≤ 5 ms).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class EngineLatencyScenario : IScenario
{
    private static readonly TimeSpan s_perRunLimit = TimeSpan.FromSeconds(30);

    public string Name => "engine-latency";

    public string Description => "new small file closed → YARA alert (200601) through `vigil run`, beside its FIM alert (p50 target <= 5 ms added) (--runs 200)";

    public async Task<int> RunAsync(string[] args)
    {
        var runs = Option(args, "--runs", 200);
        var vigilDll = RepositoryPaths.Get("artifacts", "bin", "Vigil.Cli", "release", "vigil.dll");
        if (!File.Exists(vigilDll))
        {
            await Console.Error.WriteLineAsync($"engine-latency: build the CLI first: dotnet build src/Vigil.Cli -c Release ({vigilDll} is missing)");
            return 2;
        }

        if (!await EnsureBuiltAsync())
        {
            return 2;
        }

        using var temp = new TempDirectory("vigil-bench-engine-latency");
        var watched = temp.Combine("watched");
        Directory.CreateDirectory(watched);
        var rules = temp.WriteFile("rules/web.yar", EngineBench.WebshellRule); // outside the watched tree
        var home = temp.Combine("home");
        temp.WriteFile("home/config/ossec.conf", $$"""
            <ossec_config>
              <syscheck>
                <disabled>no</disabled>
                <max_eps>0</max_eps>
                <directories realtime="yes">{{watched}}</directories>
              </syscheck>
              <integration>
                <name>custom-vigil-yara</name>
                <group>syscheck</group>
                <options>{"rules": "{{rules}}", "retro_scan": false}</options>
              </integration>
              <ruleset>
                <rule_dir>{{RepositoryPaths.Get("ruleset", "rules")}}</rule_dir>
              </ruleset>
            </ossec_config>
            """);
        var data = Path.Combine(home, "data");

        using var vigil = Process.Start(Launcher(["run", "--home", home, "--data-dir", data, "--no-web"])) ?? throw new InvalidOperationException("vigil did not start");
        var output = new StringBuilder();
        vigil.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        vigil.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        vigil.BeginOutputReadLine();
        vigil.BeginErrorReadLine();
        try
        {
            var clock = Stopwatch.StartNew();
            while (!Contains(output, "vigil: ready"))
            {
                if (vigil.HasExited || clock.Elapsed > TimeSpan.FromSeconds(120))
                {
                    await Console.Error.WriteLineAsync($"engine-latency: vigil run did not start:\n{output}");
                    return 1;
                }

                await Task.Delay(50);
            }

            var alerts = new AlertTail(Path.Combine(data, "logs", "alerts", "alerts.json"));
            await Console.Out.WriteLineAsync($"host: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; `./vigil run` (the launcher) as a child process; small files (about 4 KiB, one webshell line each) written one at a time, alerts.json polled every 1 ms");

            await MeasureAsync(watched, alerts, "warm", 10); // JIT and the first scan's paths
            var (fim, yara, lag, missed) = await MeasureAsync(watched, alerts, "run", runs);
            await Console.Out.WriteLineAsync($"{"row",-52} {"files",6} {"p50 ms",8} {"p90 ms",8} {"p99 ms",8} {"max ms",8}");
            await ReportAsync("baseline: closed → FIM alert (554)", fim);
            await ReportAsync("closed → YARA alert (200601)", yara);
            await ReportAsync("added: YARA alert after its own FIM alert", lag);
            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"files without both alerts within {s_perRunLimit.TotalSeconds:0} s: {missed}; added latency p50 {Percentile(lag, 50):F2} ms (target <= 5 ms)"));
            return missed == 0 ? 0 : 1;
        }
        finally
        {
            if (!vigil.HasExited)
            {
                vigil.Kill(entireProcessTree: true);
                await vigil.WaitForExitAsync();
            }
        }
    }

    private static async Task<(List<double> Fim, List<double> Yara, List<double> Lag, int Missed)> MeasureAsync(string watched, AlertTail alerts, string row, int runs)
    {
        var random = new Random(1606);
        var (fim, yara, lag) = (new List<double>(), new List<double>(), new List<double>());
        var missed = 0;
        var padding = new byte[4000];
        for (var i = 0; i < runs; i++)
        {
            var path = Path.Combine(watched, $"{row}-{i:D5}.php");
            random.NextBytes(padding);
            var content = Encoding.ASCII.GetBytes($"<?php /* {Convert.ToHexString(padding, 0, 1900)} */ ev" + "al(base64_decode($_POST['c'])); ?>\n");
            await File.WriteAllBytesAsync(path, content);
            var closed = Stopwatch.GetTimestamp();
            long? fimAt = null;
            long? yaraAt = null;
            var clock = Stopwatch.StartNew();
            while ((fimAt is null || yaraAt is null) && clock.Elapsed < s_perRunLimit)
            {
                foreach (var (alertPath, rule) in alerts.ReadNew())
                {
                    if (alertPath != path)
                    {
                        continue;
                    }

                    var now = Stopwatch.GetTimestamp();
                    if (rule == "200601")
                    {
                        yaraAt ??= now;
                    }
                    else
                    {
                        fimAt ??= now;
                    }
                }

                if (fimAt is null || yaraAt is null)
                {
                    await Task.Delay(1);
                }
            }

            if (fimAt is { } f && yaraAt is { } y)
            {
                fim.Add(Stopwatch.GetElapsedTime(closed, f).TotalMilliseconds);
                yara.Add(Stopwatch.GetElapsedTime(closed, y).TotalMilliseconds);
                lag.Add(Math.Max(0, Stopwatch.GetElapsedTime(f, y).TotalMilliseconds));
            }
            else
            {
                missed++;
            }
        }

        return (fim, yara, lag, missed);
    }

    private static double Percentile(List<double> values, int percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return Stats.Percentile(sorted, percentile);
    }

    private static async Task ReportAsync(string row, List<double> latencies)
    {
        var sorted = latencies.Order().ToList();
        await Console.Out.WriteLineAsync(sorted.Count == 0
            ? $"{row,-52} {0,6} {"-",8} {"-",8} {"-",8} {"-",8}"
            : string.Create(CultureInfo.InvariantCulture,
                $"{row,-52} {sorted.Count,6} {Stats.Percentile(sorted, 50),8:F2} {Stats.Percentile(sorted, 90),8:F2} {Stats.Percentile(sorted, 99),8:F2} {sorted[^1],8:F2}"));
    }

    private static bool Contains(StringBuilder output, string text)
    {
        lock (output)
        {
            return output.ToString().Contains(text, StringComparison.Ordinal);
        }
    }

    /// <summary>The alerts appended to alerts.json since the last call (whole lines only): each one's file path and rule id.</summary>
    private sealed class AlertTail(string path)
    {
        private long _offset;
        private string _partial = "";

        public IEnumerable<(string? Path, string? Rule)> ReadNew()
        {
            if (!File.Exists(path))
            {
                return [];
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            stream.Seek(_offset, SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            var chunk = _partial + reader.ReadToEnd();
            _offset = stream.Position;
            var end = chunk.LastIndexOf('\n');
            _partial = chunk[(end + 1)..];
            var found = new List<(string?, string?)>();
            foreach (var line in chunk[..(end + 1)].Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                using var alert = JsonDocument.Parse(line);
                var root = alert.RootElement;
                var rule = root.TryGetProperty("rule", out var r) && r.TryGetProperty("id", out var id) ? id.GetString() : null;
                found.Add((FilePath(root), rule));
            }

            return found;
        }

        // A FIM alert's syscheck.path; an engine alert's data path field.
        private static string? FilePath(JsonElement alert)
        {
            if (alert.TryGetProperty("syscheck", out var syscheck) && syscheck.TryGetProperty("path", out var p))
            {
                return p.GetString();
            }

            if (alert.TryGetProperty("data", out var data))
            {
                foreach (var name in new[] { "yara_scanned_file", "file" })
                {
                    if (data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                    {
                        return value.GetString();
                    }
                }
            }

            return null;
        }
    }
}
