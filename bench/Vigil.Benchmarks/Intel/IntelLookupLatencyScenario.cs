using System.Diagnostics;
using Vigil.Intel.VirusTotal;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.Benchmarks.Intel;

/// <summary>
/// Latency Vigil adds to a VirusTotal lookup: alert in → result event out, through selection, the durable SQLite
/// queue, the worker, the client, the cache write and the event, minus the emulator's own answer time measured
/// with a bare HttpClient on the same TLS connection pool shape (the baseline).
/// </summary>
internal sealed class IntelLookupLatencyScenario : IScenario
{
    public string Name => "intel-latency";

    public string Description => "added latency per VirusTotal lookup beyond the emulator's own response time (p50 target <= 2 ms)";

    public async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1000;
        var directory = Directory.CreateTempSubdirectory("vigil-bench-intel-").FullName;
        await using var emulator = await VirusTotalEmulator.StartAsync();
        emulator.ApiKeys[IntelBench.Key] = true;
        var files = Enumerable.Range(0, count * 2 + 200).Select(i => EmulatedFile.Synthetic($"latency-{i}", i % 4 == 0 ? 5 : 0)).ToList();
        files.ForEach(f => emulator.Add(f));
        var options = IntelBench.Options(emulator, directory);

        // Baseline: the emulator's answer to the same request, through an HttpClient like the service's.
        using var http = VirusTotalClient.CreateHttpClient(options);
        var client = new VirusTotalClient(http, options);
        var baseline = new List<double>();
        for (var i = 0; i < count + 100; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await client.GetFileReportAsync(files[i].Sha256, CancellationToken.None);
            if (i >= 100)
            {
                baseline.Add(IntelBench.ElapsedMs(start));
            }
        }

        var sink = new SignalSink();
        await using var service = IntelBench.Service(options, sink, directory);
        service.Start();
        var measured = new List<double>();
        for (var i = 0; i < count + 100; i++)
        {
            var file = files[count + 100 + i];
            var published = sink.Arm();
            var start = Stopwatch.GetTimestamp();
            await service.OnAlertAsync(IntelBench.Alert(file, i), CancellationToken.None);
            await published;
            if (i >= 100)
            {
                measured.Add(IntelBench.ElapsedMs(start));
            }
        }

        baseline.Sort();
        measured.Sort();
        var b50 = Stats.Percentile(baseline, 50);
        var m50 = Stats.Percentile(measured, 50);
        Console.WriteLine($"lookups: {count} unique hashes (after 100 warm-up), emulator on 127.0.0.1 over TLS, no injected latency");
        Console.WriteLine($"baseline (bare client -> emulator)   p50 {IntelBench.Ms(b50)} ms  p90 {IntelBench.Ms(Stats.Percentile(baseline, 90))} ms  p99 {IntelBench.Ms(Stats.Percentile(baseline, 99))} ms");
        Console.WriteLine($"vigil (alert -> result event)        p50 {IntelBench.Ms(m50)} ms  p90 {IntelBench.Ms(Stats.Percentile(measured, 90))} ms  p99 {IntelBench.Ms(Stats.Percentile(measured, 99))} ms");
        Console.WriteLine($"added latency p50: {IntelBench.Ms(m50 - b50)} ms (target <= 2 ms)");
        Directory.Delete(directory, recursive: true);
        return 0;
    }
}
