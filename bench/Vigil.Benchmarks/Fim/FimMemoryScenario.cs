using System.Diagnostics;
using Vigil.Fim;

namespace Vigil.Benchmarks.Fim;

/// <summary>
/// Agent memory while watching 100,000 files: a child process runs only FIM (baseline, then realtime watching) and reports
/// its VmRSS after a full GC, and its peak (VmHWM) during the baseline scan.
/// </summary>
internal sealed class FimMemoryScenario : IScenario
{
    public string Name => "fim-rss";

    public string Description => "FIM agent RSS while watching 100,000 files (child process)";

    public async Task<int> RunAsync(string[] args)
    {
        if (args is ["child", var childTree, var data])
        {
            return await ChildAsync(childTree, data);
        }

        var count = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        var scratch = FimBench.NewScratch("rss");
        try
        {
            var tree = Path.Combine(scratch, "tree");
            FimBench.CreateSmallFiles(tree, count);
            var self = Environment.ProcessPath!;
            var start = self.EndsWith("/dotnet", StringComparison.Ordinal)
                ? new ProcessStartInfo(self, [typeof(FimMemoryScenario).Assembly.Location, Name, "child", tree, Path.Combine(scratch, "data")])
                : new ProcessStartInfo(self, [Name, "child", tree, Path.Combine(scratch, "data")]);
            start.RedirectStandardOutput = true;
            using var child = Process.Start(start)!;
            var output = await child.StandardOutput.ReadToEndAsync();
            await child.WaitForExitAsync();
            Console.Write(output);
            return child.ExitCode;
        }
        finally
        {
            FimBench.Delete(scratch);
        }
    }

    private static async Task<int> ChildAsync(string tree, string data)
    {
        var sink = new FimBench.TimingSink();
        var service = new FimService(FimBench.Options(tree, realtime: true), data, sink);
        await service.StartAsync(CancellationToken.None);
        await service.InitialScan;
        await service.Writer!.Changes.WriteAsync(new Vigil.Fim.Baseline.WriterAction(_ => { }), CancellationToken.None);
        var files = service.Writer.Store.Count;
        Console.WriteLine($"watching {files} files in {service.WatchCount} watched directories (realtime), baseline done");
        Console.WriteLine($"after baseline scan: {FimBench.Rss()}");
        await Task.Delay(TimeSpan.FromSeconds(2));
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Console.WriteLine($"watching, after full GC: {FimBench.Rss()} (target VmRSS <= 80 MB; VmHWM is the peak during the baseline scan)");
        await service.StopAsync(CancellationToken.None);
        return 0;
    }
}
