using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Vigil.Core;
using Vigil.Core.Configuration;
using Vigil.Response.Execd;
using Vigil.Response.Quarantine;
using Vigil.Response.RemoveThreat;

namespace Vigil.Benchmarks.Response;

/// <summary>
/// Time from an AR command handed to execd until the flagged file is out of place (in quarantine for Vigil's
/// remove-threat, deleted for the seed's script), p50/p99 over N runs each, in one run: the native remove-threat
/// (NativeAOT, eng/package.sh) as a child process, `vigil remove-threat` through dotnet as a child process, the seed's
/// remove-threat.sh (the Wazuh baseline), and Vigil's remover in process (the cost of the safety checks and the
/// quarantine alone, without process start).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class ArLatencyScenario : IScenario
{
    public string Name => "ar-latency";

    public string Description => "AR command → file quarantined: native remove-threat vs vigil remove-threat (dotnet) vs the seed's remove-threat.sh (--runs N)";

    public async Task<int> RunAsync(string[] args)
    {
        var runs = args is ["--runs", var n] ? int.Parse(n, CultureInfo.InvariantCulture) : 200;
        var repo = FindRepository();
        var vigil = Path.Combine(repo, "artifacts", "bin", "Vigil.Cli", "release", "vigil.dll");
        if (!File.Exists(vigil))
        {
            await Console.Error.WriteLineAsync($"ar-latency: build the CLI first: dotnet build src/Vigil.Cli -c Release ({vigil} is missing)");
            return 2;
        }

        var native = Path.Combine(repo, "artifacts", "package", "native", "vigil-remove-threat");
        if (!File.Exists(native))
        {
            await Console.Error.WriteLineAsync($"ar-latency: build the native remove-threat first: eng/package.sh --native-only ({native} is missing)");
            return 2;
        }

        var root = Path.Combine(Path.GetTempPath(), "vigil-ar-latency-" + Guid.NewGuid().ToString("N")[..8]);
        var home = Path.Combine(root, "home");
        var monitored = Path.Combine(root, "mon");
        var bin = Path.Combine(home, "active-response", "bin");
        Directory.CreateDirectory(bin);
        Directory.CreateDirectory(monitored);
        Install(Path.Combine(bin, "remove-threat.sh"), await File.ReadAllTextAsync(Path.Combine(repo, "tests", "Vigil.Response.Tests", "Fixtures", "remove-threat.sh")));
        Install(Path.Combine(bin, "remove-threat"), $"#!/bin/sh\nexec dotnet '{vigil}' remove-threat --home '{home}' --allow '{monitored}'\n");

        // The native program is started by execd itself, no script in between, as a Wazuh execd or the package's
        // home starts it: the home and the monitored directory come from the environment a host gives its programs.
        File.Copy(native, Path.Combine(bin, "vigil-remove-threat"));
        File.Copy(Path.Combine(Path.GetDirectoryName(native)!, "libe_sqlite3.so"), Path.Combine(bin, "libe_sqlite3.so"));
        File.SetUnixFileMode(Path.Combine(bin, "vigil-remove-threat"), (UnixFileMode)0x1E8); // 0750
        Environment.SetEnvironmentVariable("VIGIL_HOME", home);
        Environment.SetEnvironmentVariable("VIGIL_DATA", null);
        Environment.SetEnvironmentVariable("VIGIL_MONITORED", monitored);
        try
        {
            var options = new ExecdOptions
            {
                Home = home,
                Commands =
                [
                    new CommandOptions { Name = "seed", Executable = "remove-threat.sh" },
                    new CommandOptions { Name = "vigil", Executable = "remove-threat" },
                    new CommandOptions { Name = "native", Executable = "vigil-remove-threat" },
                ],
                ActiveResponses =
                [
                    new ActiveResponseOptions { Command = "seed", Location = ActiveResponseLocations.Local },
                    new ActiveResponseOptions { Command = "vigil", Location = ActiveResponseLocations.Local },
                    new ActiveResponseOptions { Command = "native", Location = ActiveResponseLocations.Local },
                ],
            };
            var execd = new ExecDaemon(options, new ActiveResponseLog(ActiveResponseLog.PathUnder(home), TimeProvider.System), TimeProvider.System);

            await Console.Out.WriteLineAsync($"runs per row: {runs}; host: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
            await Console.Out.WriteLineAsync($"{"program",-44} {"p50 ms",8} {"p99 ms",8} {"max ms",8}");
            await ReportAsync("native remove-threat (child process of execd)", await MeasureAsync(runs, monitored, path => execd.ExecuteAsync(Message("native0", path), CancellationToken.None)));
            await ReportAsync("vigil remove-threat (dotnet, child of execd)", await MeasureAsync(runs, monitored, path => execd.ExecuteAsync(Message("vigil0", path), CancellationToken.None)));
            await ReportAsync("seed remove-threat.sh (child process, rm -f)", await MeasureAsync(runs, monitored, path => execd.ExecuteAsync(Message("seed0", path), CancellationToken.None)));

            var quarantine = new QuarantineOptions { DataDirectory = Path.Combine(home, ".vigil") };
            QuarantineVault.EnsureDataDirectory(quarantine);
            var vault = new QuarantineVault(quarantine, new QuarantineStore(quarantine.DatabasePath, TimeProvider.System), TimeProvider.System);
            var remover = new ThreatRemover(new RemoveThreatOptions { AllowedDirectories = [monitored] }, vault, TimeProvider.System);
            await ReportAsync("vigil remover in process (no process start)", await MeasureAsync(runs, monitored, path =>
                remover.RemoveAsync(new ThreatTarget(path, Eicar.Md5, Eicar.Sha1, null), QuarantineAction.Quarantine, CancellationToken.None)));
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<double[]> MeasureAsync<T>(int runs, string monitored, Func<string, Task<T>> act)
    {
        var times = new double[runs];
        for (var i = -3; i < runs; i++)
        {
            // No spaces: the seed script word-splits names (spec §8 item 20).
            var path = Path.Combine(monitored, $"sample-{i + 3}.bin");
            await File.WriteAllBytesAsync(path, Eicar.Bytes);
            var start = Stopwatch.GetTimestamp();
            await act(path);
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (File.Exists(path))
            {
                throw new InvalidOperationException($"{path} was not removed");
            }

            if (i >= 0)
            {
                times[i] = elapsed; // the first three are warm-up
            }
        }

        Array.Sort(times);
        return times;
    }

    private static Task ReportAsync(string name, double[] sorted)
    {
        static double At(double[] s, double q) => s[Math.Min(s.Length - 1, (int)Math.Ceiling(q * s.Length) - 1)];
        return Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{name,-44} {At(sorted, 0.50),8:0.0} {At(sorted, 0.99),8:0.0} {sorted[^1],8:0.0}"));
    }

    private static long s_alertId;

    private static string Message(string wireName, string path) => new JsonObject
    {
        ["version"] = 1,
        ["origin"] = new JsonObject { ["name"] = "node01", ["module"] = "wazuh-analysisd" },
        ["command"] = wireName,
        ["parameters"] = new JsonObject
        {
            ["extra_args"] = new JsonArray(),
            ["alert"] = new JsonObject
            {
                ["rule"] = new JsonObject { ["level"] = 12, ["id"] = "87105", ["description"] = "VirusTotal: Alert" },
                ["id"] = $"1700000000.{Interlocked.Increment(ref s_alertId)}", // unique: the same alert and path is one response
                ["data"] = new JsonObject { ["virustotal"] = new JsonObject { ["source"] = new JsonObject { ["file"] = path, ["md5"] = Eicar.Md5, ["sha1"] = Eicar.Sha1 } } },
            },
        },
    }.ToJsonString();

    private static void Install(string path, string text)
    {
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, (UnixFileMode)0x1E8); // 0750
    }

    private static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Vigil.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("run from a Vigil checkout");
    }
}
