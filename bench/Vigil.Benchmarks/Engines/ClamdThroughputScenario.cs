using System.Diagnostics;
using System.Globalization;
using Vigil.Intel;
using Vigil.Intel.ClamAv;
using Vigil.Intel.LocalLists;
using Vigil.Intel.Scanning;
using Vigil.Tests.Common;

namespace Vigil.Benchmarks.Engines;

/// <summary>
/// A real clamd (started here, MaxThreads 4, with a small signature database written here) over a tree of small
/// files: Vigil's client passing each descriptor (FILDES pipelined on one IDSESSION connection) against `clamdscan
/// --fdpass --multiscan` (the same, from C) on the same tree, in the same run (target ≥ 1.0×). Vigil keeps as many
/// scans in flight as the product does: the engine's MaxConcurrentScans, which EngineService, `vigil scan` and the
/// retro-scan use (from clamd.conf: 4 × MaxThreads, at most MaxQueue / 2; 16 here). --parallel overrides it. A
/// third line is `vigil scan`'s own walk (FileScanner: walk, open, SHA-256, the engine through the same descriptor,
/// results in walk order). Each line gives its wall time, the client's cpu and clamd's cpu (the same work for all:
/// the client's cpu is the cost of the client).
/// </summary>
internal sealed class ClamdThroughputScenario : IScenario
{
    public string Name => "clamd-throughput";

    public string Description => "ClamAV engine (FILDES pipelined, the product's in-flight bound) and vigil scan's walk vs `clamdscan --fdpass --multiscan` (--files 10000 --runs 3 [--parallel N])";

    public async Task<int> RunAsync(string[] args)
    {
        var small = EngineBench.Int(args, "--files", 10_000);
        var runs = EngineBench.Int(args, "--runs", 3);
        var scratch = Directory.CreateTempSubdirectory("vigil-bench-clamd-").FullName;
        await using var clamd = await ClamdProcess.StartAsync(withEicar: false);
        try
        {
            var (tree, bytes) = EngineBench.WriteTree(Path.Combine(scratch, "tree"), small, big: 0, repeat: false);
            using var engine = new ClamAvEngine(new ClamAvOptions { ClamdConf = clamd.ConfPath });
            await engine.CheckAsync(CancellationToken.None);
            var parallel = EngineBench.Int(args, "--parallel", engine.MaxConcurrentScans);
            var options = new IntelOptions();
            using var store = IntelStore.Open(Path.Combine(scratch, "intel.db"));
            var (cli, vigil, walk) = (new List<double>(), new List<double>(), new List<double>());
            for (var run = 0; run < runs; run++)
            {
                var (children, clamdBefore) = (ChildrenCpu(), ClamdCpu(clamd));
                var (cliTime, cliOutput, _) = await EngineBench.TimeProcessAsync("clamdscan", "--fdpass", "--multiscan", "--no-summary", $"--config-file={clamd.ConfPath}", tree);
                var (cliCpu, cliClamd) = (ChildrenCpu() - children, ClamdCpu(clamd) - clamdBefore);
                cli.Add(cliTime.TotalSeconds);

                var (self, clamdAtVigil) = (SelfCpu(), ClamdCpu(clamd));
                var (vigilTime, detections) = await EngineBench.ScanTreeAsync(tree, engine, store: null, parallel);
                var (vigilCpu, vigilClamd) = (SelfCpu() - self, ClamdCpu(clamd) - clamdAtVigil);
                vigil.Add(vigilTime.TotalSeconds);

                (self, clamdAtVigil) = (SelfCpu(), ClamdCpu(clamd));
                var scanner = new FileScanner(options, LocalIntel.FromOptions(options), store, null, TimeProvider.System, shouldWait: false) { Engines = [engine] };
                var clock = Stopwatch.StartNew();
                var walked = 0;
                await foreach (var result in scanner.ScanAsync([tree], CancellationToken.None))
                {
                    walked += result.Verdict == ScanVerdict.Malicious ? 1 : 0;
                }

                clock.Stop();
                var (walkCpu, walkClamd) = (SelfCpu() - self, ClamdCpu(clamd) - clamdAtVigil);
                walk.Add(clock.Elapsed.TotalSeconds);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run {run + 1}: clamdscan {cliTime.TotalSeconds:0.000} s ({cliOutput.Split('\n').Count(l => l.EndsWith(" FOUND", StringComparison.Ordinal))} found; cpu {cliCpu:0.00} s, clamd {cliClamd:0.00} s), vigil {vigilTime.TotalSeconds:0.000} s ({detections} found; cpu {vigilCpu:0.00} s, clamd {vigilClamd:0.00} s), vigil scan walk {clock.Elapsed.TotalSeconds:0.000} s ({walked} found; cpu {walkCpu:0.00} s, clamd {walkClamd:0.00} s)"));
            }

            var (c, v, w) = (Stats.Median(cli), Stats.Median(vigil), Stats.Median(walk));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"tree: {small} files, {bytes / 1048576.0:0.0} MB; median clamdscan --fdpass --multiscan {c:0.000} s ({small / c:0} files/s), vigil ({parallel} in flight on one IDSESSION) {v:0.000} s ({small / v:0} files/s), vigil scan walk {w:0.000} s ({small / w:0} files/s); ratio {c / v:0.00}x, walk {c / w:0.00}x (target >= 1.0)"));
            return 0;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static double SelfCpu() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    // User and system cpu of the waited-for children (clamdscan): /proc/self/stat's cutime and cstime.
    private static double ChildrenCpu() => Ticks("/proc/self/stat", 13);

    // clamd's user and system cpu: its /proc stat's utime and stime.
    private static double ClamdCpu(ClamdProcess clamd) => Ticks($"/proc/{clamd.ProcessId}/stat", 11);

    // Two adjacent fields of a /proc stat (counted after the command's closing parenthesis), in 1/100 s.
    private static double Ticks(string stat, int field)
    {
        var fields = File.ReadAllText(stat).Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[field], CultureInfo.InvariantCulture) + long.Parse(fields[field + 1], CultureInfo.InvariantCulture)) / 100.0;
    }
}
