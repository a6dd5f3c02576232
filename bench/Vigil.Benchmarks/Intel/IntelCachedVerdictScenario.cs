using System.Diagnostics;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.Benchmarks.Intel;

/// <summary>
/// Cached verdicts per second: FIM alerts whose hashes are in the verdict cache, each parsed, selected, answered
/// and published as its own event, on one thread. Baseline: parsing the same alerts with JsonDocument alone.
/// </summary>
internal sealed class IntelCachedVerdictScenario : IScenario
{
    public string Name => "intel-cached";

    public string Description => "cached verdicts per second through OnAlertAsync (target >= 100,000/s)";

    public async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 500_000;
        var directory = Directory.CreateTempSubdirectory("vigil-bench-intel-").FullName;
        await using var emulator = await VirusTotalEmulator.StartAsync();
        emulator.ApiKeys[IntelBench.Key] = true;
        var files = Enumerable.Range(0, 1000).Select(i => EmulatedFile.Synthetic($"cached-{i}", i % 4 == 0 ? 5 : 0)).ToList();
        files.ForEach(f => emulator.Add(f));
        var sink = new SignalSink();
        await using var service = IntelBench.Service(IntelBench.Options(emulator, directory), sink, directory);
        service.Start();

        // Prime the cache: one lookup per hash.
        for (var i = 0; i < files.Count; i++)
        {
            var published = sink.Arm();
            await service.OnAlertAsync(IntelBench.Alert(files[i], i), CancellationToken.None);
            await published;
        }

        var alerts = Enumerable.Range(0, 10_000).Select(i => IntelBench.Alert(files[i % files.Count], i)).ToArray();
        // Rounds alternate baseline and Vigil, so both see the same machine load; medians are reported.
        const int Rounds = 7;
        var perRound = count / Rounds;
        var baselineRates = new List<double>();
        var rates = new List<double>();
        var before = sink.Count;
        for (var round = 0; round < Rounds; round++)
        {
            var baselineStart = Stopwatch.GetTimestamp();
            for (var i = 0; i < perRound; i++)
            {
                using var document = System.Text.Json.JsonDocument.Parse(alerts[i % alerts.Length]);
            }

            baselineRates.Add(perRound / Stopwatch.GetElapsedTime(baselineStart).TotalSeconds);
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < perRound; i++)
            {
                await service.OnAlertAsync(alerts[i % alerts.Length], CancellationToken.None);
            }

            rates.Add(perRound / Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        baselineRates.Sort();
        rates.Sort();
        var answered = sink.Count - before;
        Console.WriteLine($"alerts: {Rounds} rounds x {perRound} over {files.Count} cached hashes, one thread; events published: {answered}; VirusTotal requests: {emulator.LookupCount}");
        Console.WriteLine($"baseline (JsonDocument.Parse of the alert only): median {baselineRates[Rounds / 2]:N0}/s, best {baselineRates[^1]:N0}/s");
        Console.WriteLine($"vigil cached verdicts (parse, select, cache, format, publish): median {rates[Rounds / 2]:N0}/s, best {rates[^1]:N0}/s (target >= 100,000/s)");
        Console.WriteLine($"ratio to baseline (median): {rates[Rounds / 2] / baselineRates[Rounds / 2]:0.00}");
        Directory.Delete(directory, recursive: true);
        return answered == (long)perRound * Rounds ? 0 : 1;
    }
}
