using System.Diagnostics;
using Vigil.Fim;

namespace Vigil.Benchmarks.Fim;

/// <summary>
/// Baseline scan of 100,000 small files plus twenty 100 MB files with md5+sha1+sha256, against md5sum, sha1sum and
/// sha256sum run in parallel over the same files (find | xargs), alternating, medians of the runs.
/// </summary>
internal sealed class FimScanScenario : IScenario
{
    public string Name => "fim-scan";

    public string Description => "FIM baseline scan (100k small + 20x100MB, md5+sha1+sha256) vs md5sum|sha1sum|sha256sum in parallel";

    public async Task<int> RunAsync(string[] args)
    {
        var small = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        var large = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20;
        var runs = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 3;
        var scratch = FimBench.NewScratch("scan");
        var tree = Path.Combine(scratch, "tree");
        try
        {
            var setup = Stopwatch.StartNew();
            FimBench.CreateSmallFiles(Path.Combine(tree, "small"), small);
            FimBench.CreateLargeFiles(Path.Combine(tree, "large"), large, 100L << 20);
            Console.WriteLine($"tree: {small} small files + {large} x 100 MB in {tree} (created in {setup.Elapsed.TotalSeconds:F1} s), {Environment.ProcessorCount} cores");

            // Warm the page cache identically for both sides.
            await RunCoreutilsAsync(tree);
            var vigil = new List<double>();
            var coreutils = new List<double>();
            for (var run = 1; run <= runs; run++)
            {
                var v = await RunVigilAsync(tree, Path.Combine(scratch, $"data{run}"), small + large);
                var c = await RunCoreutilsAsync(tree);
                vigil.Add(v);
                coreutils.Add(c);
                Console.WriteLine($"run {run}: vigil {v:F2} s, coreutils {c:F2} s, ratio {c / v:F2}x");
            }

            var vm = Stats.Median(vigil);
            var cm = Stats.Median(coreutils);
            Console.WriteLine($"median: vigil {vm:F2} s, md5sum+sha1sum+sha256sum in parallel {cm:F2} s, vigil is {cm / vm:F2}x faster (target >= 2x)");
            return 0;
        }
        finally
        {
            FimBench.Delete(scratch);
        }
    }

    private static async Task<double> RunVigilAsync(string tree, string data, int expected)
    {
        var sink = new FimBench.TimingSink();
        var service = new FimService(FimBench.Options(tree, realtime: false), data, sink);
        var clock = Stopwatch.StartNew();
        await service.StartAsync(CancellationToken.None);
        await service.InitialScan;
        await service.Writer!.Changes.WriteAsync(new Vigil.Fim.Baseline.WriterAction(_ => { }), CancellationToken.None);
        var elapsed = clock.Elapsed.TotalSeconds;
        var count = service.Writer.Store.Count;
        await service.StopAsync(CancellationToken.None);
        FimBench.Delete(data);
        if (count != expected)
        {
            throw new InvalidOperationException($"baseline holds {count} files, expected {expected}");
        }

        return elapsed;
    }

    private static async Task<double> RunCoreutilsAsync(string tree)
    {
        var clock = Stopwatch.StartNew();
        var tools = new[] { "md5sum", "sha1sum", "sha256sum" }.Select(tool =>
        {
            var start = new ProcessStartInfo("/bin/sh", ["-c", $"find '{tree}' -type f -print0 | xargs -0 {tool} > /dev/null"]) { UseShellExecute = false };
            return Process.Start(start)!;
        }).ToArray();
        foreach (var process in tools)
        {
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"coreutils exited with {process.ExitCode}");
            }
        }

        return clock.Elapsed.TotalSeconds;
    }
}
