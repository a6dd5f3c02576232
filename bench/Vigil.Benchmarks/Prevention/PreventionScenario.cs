using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Vigil.Core.Prevention;
using Vigil.Fim.Fanotify;

namespace Vigil.Benchmarks.Prevention;

/// <summary>
/// On-access prevention's cost, in one run: open()+read()+close() of small clean files with the guard in block mode
/// (verdicts cached in memory: a hash list) against no guard, per round, medians and p99; and the hold of a first
/// execution of an unknown small binary with hold_unknown_exec against no guard. It re-runs itself inside
/// <c>unshare -m</c> on a private tmpfs (only that tmpfs is marked) and runs the guard as a child process, since a
/// guard allows its own process unchecked.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class PreventionScenario : IScenario
{
    public string Name => "prevention";

    // This program again: the apphost, or dotnet and the assembly.
    private static string[] Self => Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet"
        ? [Environment.ProcessPath!, typeof(PreventionScenario).Assembly.Location]
        : [Environment.ProcessPath!];

    public string Description => "fanotify prevention: open+read+close of clean files, block vs off (median ratio, p99); first-exec hold";

    public async Task<int> RunAsync(string[] args)
    {
        var options = Arguments.Parse(args);
        if (options.GuardDirectory is { } guardDirectory)
        {
            return RunGuard(guardDirectory, options);
        }

        if (options.InsideDirectory is { } inside)
        {
            return await MeasureAsync(inside, options);
        }

        // Outside: start the same scenario in a private mount namespace with a tmpfs of its own.
        var directory = Directory.CreateTempSubdirectory("vigil-bench-prevention-").FullName;
        try
        {
            var info = new ProcessStartInfo("unshare") { UseShellExecute = false };
            string[] command = ["-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs -o size=256m vigil-bench \"$0\" && exec \"$@\"", directory, .. Self, Name, "--inside", directory, .. args];
            foreach (var part in command)
            {
                info.ArgumentList.Add(part);
            }

            info.Environment["VIGIL_BENCH_HOST_MNTNS"] = FanotifyLibC.TryReadLink("/proc/self/ns/mnt") ?? "";
            using var process = Process.Start(info)!;
            await process.WaitForExitAsync();
            return process.ExitCode;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<int> MeasureAsync(string directory, Arguments options)
    {
        if (Refusal(directory) is { } refusal)
        {
            await Console.Error.WriteLineAsync(refusal);
            return 3;
        }

        var files = Enumerable.Range(0, options.Files).Select(i => Path.Combine(directory, "files", $"f{i:D5}")).ToList();
        Directory.CreateDirectory(Path.Combine(directory, "files"));
        var payload = new byte[options.FileSize];
        foreach (var file in files)
        {
            Random.Shared.NextBytes(payload);
            await File.WriteAllBytesAsync(file, payload);
        }

        // Listed: one unrelated hash, so every lookup is a real (negative) lookup in memory.
        var list = Path.Combine(directory, "list.sha256");
        await File.WriteAllTextAsync(list, Convert.ToHexStringLower(SHA256.HashData("not any of these files"u8)) + "\n");

        Console.WriteLine($"files: {options.Files} x {options.FileSize} B on tmpfs, {options.Rounds} rounds, each: a pass without the guard, then a warm pass and a timed pass with it (block)");
        var offMedians = new List<double>();
        var onMedians = new List<double>();
        var off = new List<double>();
        var on = new List<double>();
        for (var round = 0; round < options.Rounds; round++)
        {
            var offPass = Pass(files);
            using (var guard = GuardChild.Start(directory, "block", list, holdUnknownExec: false))
            {
                Pass(files); // fills the guard's hash cache: the steady state is a cached verdict
                var onPass = Pass(files);
                on.AddRange(onPass);
                onMedians.Add(Stats.Median(onPass));
            }

            off.AddRange(offPass);
            offMedians.Add(Stats.Median(offPass));
        }

        off.Sort();
        on.Sort();
        var offMedian = Stats.Median(offMedians);
        var onMedian = Stats.Median(onMedians);
        Console.WriteLine($"open+read+close off:   median {offMedian * 1000:F1} us, p99 {Stats.Percentile(off, 99) * 1000:F1} us");
        Console.WriteLine($"open+read+close block: median {onMedian * 1000:F1} us, p99 {Stats.Percentile(on, 99) * 1000:F1} us");
        Console.WriteLine($"ratio block/off (median of round medians): {onMedian / offMedian:F2}x (target <= 1.2x)");

        // First execution of unknown small binaries: each a copy of /bin/true with its own trailing bytes.
        var binTrue = await File.ReadAllBytesAsync("/bin/true");
        var binaries = new List<string>();
        Directory.CreateDirectory(Path.Combine(directory, "bin"));
        for (var i = 0; i < options.Execs * 2; i++)
        {
            var path = Path.Combine(directory, "bin", $"t{i:D4}");
            await File.WriteAllBytesAsync(path, [.. binTrue, .. BitConverter.GetBytes(i)]);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            binaries.Add(path);
        }

        var execOff = binaries.Take(options.Execs).Select(Exec).Order().ToList();
        List<double> execHeld;
        using (GuardChild.Start(directory, "block", list, holdUnknownExec: true))
        {
            execHeld = [.. binaries.Skip(options.Execs).Select(Exec).Order()];
        }

        Console.WriteLine($"first exec of an unknown binary ({binTrue.Length} B), fork+exec+exit: off p50 {Stats.Percentile(execOff, 50):F2} ms, "
            + $"hold_unknown_exec p50 {Stats.Percentile(execHeld, 50):F2} ms, p99 {Stats.Percentile(execHeld, 99):F2} ms; "
            + $"hold p50 {Stats.Percentile(execHeld, 50) - Stats.Percentile(execOff, 50):F2} ms (target <= 10 ms; with the hash lists and YARA, {YaraRuleCount} rules, each binary scanned through the event's descriptor)");
        return 0;
    }

    // Milliseconds per open+read+close (File.OpenHandle and pread: the same calls in both arms).
    private static List<double> Pass(List<string> files)
    {
        var times = new List<double>(files.Count);
        var buffer = new byte[65536];
        foreach (var file in files)
        {
            var start = Stopwatch.GetTimestamp();
            using (var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read))
            {
                long offset = 0;
                int read;
                while ((read = RandomAccess.Read(handle, buffer, offset)) > 0)
                {
                    offset += read;
                }
            }

            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        return times;
    }

    private static double Exec(string path)
    {
        var start = Stopwatch.GetTimestamp();
        using var process = Process.Start(new ProcessStartInfo(path) { UseShellExecute = false })!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{path} exited {process.ExitCode}");
        }

        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static int RunGuard(string directory, Arguments options)
    {
        if (Refusal(directory) is { } refusal)
        {
            Console.WriteLine(refusal);
            return 3;
        }

        var listed = File.ReadAllLines(options.List!).Where(l => l.Length > 0).ToDictionary(l => l.Trim(), _ => (string?)null);
        var prevention = new PreventionOptions { HoldUnknownExec = options.HoldUnknownExec };
        IPreventionVerdicts verdicts = new CachedVerdicts(listed) { IsCleanCached = !options.HoldUnknownExec };
        // A held first exec gets prevention's own verdicts: the hash lists, then the real YARA engine (rules outside the tmpfs).
        var rules = options.HoldUnknownExec ? Directory.CreateTempSubdirectory("vigil-bench-yara") : null;
        using var yara = rules is null ? null : new Vigil.Intel.Yara.YaraEngine(new Vigil.Intel.Yara.YaraOptions { Rules = [rules.FullName] });
        try
        {
            if (yara is not null)
            {
                File.WriteAllLines(Path.Combine(rules!.FullName, "bench.yar"), Enumerable.Range(0, YaraRuleCount).Select(i =>
                    $"rule Bench_{i} {{ strings: $a = \"vigil-bench-marker-{i}\" $b = {{ 4D 5A 90 00 {i % 256:X2} }} condition: $a or $b }}"));
                if (yara.Reload().Errors is { Count: > 0 } errors)
                {
                    Console.WriteLine("failed: " + string.Join("; ", errors));
                    return 1;
                }

                verdicts = new Vigil.Intel.Prevention.PreventionVerdicts(
                    [Vigil.Intel.LocalLists.HashList.Builtin, Vigil.Intel.LocalLists.HashList.Parse("bench", listed.Keys)], [], TimeProvider.System, [yara]);
            }

            return Guard(directory, prevention, verdicts);
        }
        finally
        {
            rules?.Delete(recursive: true);
        }
    }

    private const int YaraRuleCount = 50;

    private static int Guard(string directory, PreventionOptions prevention, IPreventionVerdicts verdicts)
    {
        using var guard = new FanotifyGuard(prevention, [new PreventionDirectory(directory, PreventionMode.Block)], verdicts, _ => { }, new StandardErrorLogger());
        var problems = guard.Start();
        Console.WriteLine(guard.IsRunning ? "ready" : "failed: " + string.Join("; ", problems));
        Console.Out.Flush();
        if (!guard.IsRunning)
        {
            return 1;
        }

        Console.In.ReadToEnd();
        return 0;
    }

    // Only a tmpfs mounted exactly at the directory, in a mount namespace other than the caller's.
    private static string? Refusal(string directory)
    {
        var own = FanotifyLibC.TryReadLink("/proc/self/ns/mnt");
        var host = Environment.GetEnvironmentVariable("VIGIL_BENCH_HOST_MNTNS");
        if (own is null || string.IsNullOrEmpty(host) || own == host)
        {
            return "refusing: not in a private mount namespace";
        }

        var isTmpfs = File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')).Any(f =>
            f.Length > 4 && f[4] == directory && Array.IndexOf(f, "-") is var dash && dash > 0 && dash + 1 < f.Length && f[dash + 1] == "tmpfs");
        return isTmpfs ? null : $"refusing: {directory} is not a tmpfs mount point";
    }

    /// <summary>Cached verdicts: listed hashes are malicious, and (with --cached) every other one has a clean verdict.</summary>
    private sealed class CachedVerdicts(Dictionary<string, string?> listed) : IPreventionVerdicts
    {
        public bool IsCleanCached { get; init; } = true;

        public PreventionVerdict Lookup(string sha256) =>
            listed.ContainsKey(sha256) ? new(PreventionVerdictKind.Malicious, "bench", null)
            : IsCleanCached ? new(PreventionVerdictKind.Clean, "verdict-cache", null)
            : PreventionVerdict.Unknown;

        public ValueTask<PreventionVerdict> ScanAsync(Microsoft.Win32.SafeHandles.SafeFileHandle file, string sha256, CancellationToken cancellationToken) =>
            ValueTask.FromResult(listed.ContainsKey(sha256) ? new PreventionVerdict(PreventionVerdictKind.Malicious, "bench", null) : new PreventionVerdict(PreventionVerdictKind.Clean, "engine", null));
    }

    private sealed class GuardChild : IDisposable
    {
        private readonly Process _process;

        private GuardChild(Process process) => _process = process;

        public static GuardChild Start(string directory, string mode, string list, bool holdUnknownExec)
        {
            var info = new ProcessStartInfo(Self[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            string[] command = [.. Self[1..], "prevention", "--guard", directory, "--mode", mode, "--list", list, .. (holdUnknownExec ? (string[])["--hold-unknown-exec"] : [])];
            foreach (var part in command)
            {
                info.ArgumentList.Add(part);
            }

            var process = Process.Start(info)!;
            var line = process.StandardOutput.ReadLine();
            if (line != "ready")
            {
                process.Kill();
                throw new InvalidOperationException($"the guard did not start: {line}");
            }

            return new GuardChild(process);
        }

        public void Dispose()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _process.Kill();
            }

            _process.Dispose();
        }
    }

    private sealed record Arguments(int Files, int FileSize, int Rounds, int Execs, string? InsideDirectory, string? GuardDirectory, string? List, bool HoldUnknownExec)
    {
        public static Arguments Parse(string[] args)
        {
            var result = new Arguments(2000, 4096, 5, 100, null, null, null, false);
            for (var i = 0; i < args.Length; i++)
            {
                var value = i + 1 < args.Length ? args[i + 1] : "";
                result = args[i] switch
                {
                    "--files" => result with { Files = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--size" => result with { FileSize = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--rounds" => result with { Rounds = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--execs" => result with { Execs = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--inside" => result with { InsideDirectory = value },
                    "--guard" => result with { GuardDirectory = value },
                    "--list" => result with { List = value },
                    "--mode" => result,
                    "--hold-unknown-exec" => result with { HoldUnknownExec = true },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
                if (args[i] is not "--hold-unknown-exec")
                {
                    i++;
                }
            }

            return result;
        }
    }
}

/// <summary>The guard's log entries on stderr, one message a line (stdout carries the scenario's protocol).</summary>
internal sealed class StandardErrorLogger : Microsoft.Extensions.Logging.ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

    public void Log<TState>(
        Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Console.Error.WriteLine(formatter(state, exception));
}
