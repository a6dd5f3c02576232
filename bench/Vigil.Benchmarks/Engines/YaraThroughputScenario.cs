using System.Globalization;
using Vigil.Intel.Engines;
using Vigil.Intel.Yara;

namespace Vigil.Benchmarks.Engines;

/// <summary>
/// YARA over a tree of small files and a few 100 MB files: Vigil's engine (descriptor scans, 2 at once) against
/// `yara -r -p 2` with the same rules, in the same run; then a tree where most files repeat content already seen,
/// where Vigil's verdict cache (sha256 and rules version) answers the repeats (targets: ≥ 0.9× and ≥ 5× the CLI).
/// </summary>
internal sealed class YaraThroughputScenario : IScenario
{
    public string Name => "yara-throughput";

    public string Description => "YARA engine vs `yara -r -p 2` on unique and repeating trees (--files 10000 --big 3 --runs 3)";

    public async Task<int> RunAsync(string[] args)
    {
        var small = EngineBench.Int(args, "--files", 10_000);
        var big = EngineBench.Int(args, "--big", 3);
        var runs = EngineBench.Int(args, "--runs", 3);
        var scratch = Directory.CreateTempSubdirectory("vigil-bench-yara-").FullName;
        try
        {
            var rules = Path.Combine(scratch, "rules.yar");
            await File.WriteAllTextAsync(rules, EngineBench.WebshellRule);
            using var engine = new YaraEngine(new YaraOptions { Rules = [rules], MaxConcurrentScans = 2 });
            engine.Reload();
            foreach (var repeat in new[] { false, true })
            {
                var (tree, bytes) = EngineBench.WriteTree(Path.Combine(scratch, repeat ? "repeat" : "unique"), small, repeat ? 0 : big, repeat);
                var cli = new List<double>();
                var vigil = new List<double>();

                // The repeating tree is timed with its hashes already scanned once (the cache warm), as after FIM's
                // first scan: what is timed is the cost of a file whose content Vigil has already judged.
                using var store = repeat ? EngineStore.Open(Path.Combine(scratch, "cache.db")) : null;
                if (store is not null)
                {
                    await EngineBench.ScanTreeAsync(tree, engine, store, parallel: 2);
                }

                for (var run = 0; run < runs; run++)
                {
                    var (cliTime, cliOutput, _) = await EngineBench.TimeProcessAsync("yara", "-r", "-p", "2", rules, tree);
                    cli.Add(cliTime.TotalSeconds);
                    var (vigilTime, detections) = await EngineBench.ScanTreeAsync(tree, engine, store, parallel: 2);
                    vigil.Add(vigilTime.TotalSeconds);
                    var cliDetections = cliOutput.Split('\n').Count(l => l.StartsWith("Bench_Webshell", StringComparison.Ordinal));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{(repeat ? "repeat" : "unique")} run {run + 1}: yara CLI {cliTime.TotalSeconds:0.000} s ({cliDetections} matches), vigil {vigilTime.TotalSeconds:0.000} s ({detections} matches)"));
                }

                var (c, v) = (Stats.Median(cli), Stats.Median(vigil));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(repeat ? "repeat" : "unique")} tree: {small} small + {(repeat ? 0 : big)} x 100 MB, {bytes / 1048576.0:0.0} MB; median yara -r -p 2 {c:0.000} s ({EngineBench.Rate(bytes, TimeSpan.FromSeconds(c))}), vigil {v:0.000} s ({EngineBench.Rate(bytes, TimeSpan.FromSeconds(v))}); ratio vigil/cli throughput {c / v:0.00}x (target {(repeat ? ">= 5" : ">= 0.9")})"));
            }

            return 0;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
