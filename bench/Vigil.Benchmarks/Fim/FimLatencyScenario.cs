using System.Diagnostics;
using Vigil.Fim;

namespace Vigil.Benchmarks.Fim;

/// <summary>Realtime latency: from the writer's close(2) to the event reaching the sink, p50/p99 over many files.</summary>
internal sealed class FimLatencyScenario : IScenario
{
    public string Name => "fim-latency";

    public string Description => "FIM realtime latency, writer close -> event at the sink (p50/p99)";

    public async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 2000;
        var scratch = FimBench.NewScratch("latency");
        var root = Path.Combine(scratch, "watched");
        Directory.CreateDirectory(root);
        var sink = new FimBench.TimingSink();
        var service = new FimService(FimBench.Options(root, realtime: true), Path.Combine(scratch, "data"), sink);
        try
        {
            await service.StartAsync(CancellationToken.None);
            await service.InitialScan;
            var closed = new Dictionary<string, long>();
            var payload = new byte[1024];
            for (var i = 0; i < count; i++)
            {
                var path = Path.Combine(root, $"f{i:D5}");
                using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1))
                {
                    Random.Shared.NextBytes(payload);
                    stream.Write(payload);
                    closed[path] = Stopwatch.GetTimestamp(); // taken just before close(2)
                }

                // One file every 5 ms: latency, not throughput.
                var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 200;
                while (Stopwatch.GetTimestamp() < until)
                {
                    await Task.Yield();
                }
            }

            var deadline = Stopwatch.StartNew();
            while (sink.Arrivals.Count < count && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50);
            }

            var latencies = closed
                .Where(c => sink.Arrivals.ContainsKey(c.Key))
                .Select(c => Stopwatch.GetElapsedTime(c.Value, sink.Arrivals[c.Key]).TotalMilliseconds)
                .Order()
                .ToList();
            Console.WriteLine($"files: {count}, events: {latencies.Count}, one write+close every 5 ms, 1 KiB each, md5+sha1+sha256");
            Console.WriteLine($"latency close -> sink: p50 {Stats.Percentile(latencies, 50):F2} ms, p90 {Stats.Percentile(latencies, 90):F2} ms, p99 {Stats.Percentile(latencies, 99):F2} ms, max {latencies[^1]:F2} ms (target p50 <= 5 ms)");
            return latencies.Count == count ? 0 : 1;
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
            FimBench.Delete(scratch);
        }
    }
}
