using System.Globalization;
using Vigil.Intel.ClamAv;
using Vigil.Tests.Common;

namespace Vigil.Benchmarks.Engines;

/// <summary>
/// A real clamd (started here, MaxThreads 4, with a small signature database written here) over a tree of small
/// files: Vigil's client passing each descriptor (FILDES pipelined on one IDSESSION connection) against `clamdscan
/// --fdpass --multiscan` (the same, from C) on the same tree, in the same run (target ≥ 1.0×). Vigil keeps as many
/// scans in flight as the product does: the engine's MaxConcurrentScans, which EngineService, `vigil scan` and the
/// retro-scan use (from clamd.conf: 4 × MaxThreads, at most MaxQueue / 2; 16 here). --parallel overrides it.
/// </summary>
internal sealed class ClamdThroughputScenario : IScenario
{
    public string Name => "clamd-throughput";

    public string Description => "ClamAV engine (FILDES pipelined, the product's in-flight bound) vs `clamdscan --fdpass --multiscan` (--files 10000 --runs 3 [--parallel N])";

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
            var cli = new List<double>();
            var vigil = new List<double>();
            for (var run = 0; run < runs; run++)
            {
                var (cliTime, cliOutput, _) = await EngineBench.TimeProcessAsync("clamdscan", "--fdpass", "--multiscan", "--no-summary", $"--config-file={clamd.ConfPath}", tree);
                cli.Add(cliTime.TotalSeconds);
                var (vigilTime, detections) = await EngineBench.ScanTreeAsync(tree, engine, store: null, parallel);
                vigil.Add(vigilTime.TotalSeconds);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"run {run + 1}: clamdscan {cliTime.TotalSeconds:0.000} s ({cliOutput.Split('\n').Count(l => l.EndsWith(" FOUND", StringComparison.Ordinal))} found), vigil {vigilTime.TotalSeconds:0.000} s ({detections} found)"));
            }

            var (c, v) = (Stats.Median(cli), Stats.Median(vigil));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"tree: {small} files, {bytes / 1048576.0:0.0} MB; median clamdscan --fdpass --multiscan {c:0.000} s ({small / c:0} files/s), vigil ({parallel} in flight on one IDSESSION) {v:0.000} s ({small / v:0} files/s); ratio {c / v:0.00}x (target >= 1.0)"));
            return 0;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
