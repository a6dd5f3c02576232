using System.Diagnostics;
using System.Globalization;
using Vigil.Storage.Postgres;
using Vigil.Storage.Postgres.Alerts;
using Vigil.Tests.Common;
using Vigil.Web.Index;

namespace Vigil.Benchmarks.Manager;

/// <summary>
/// The shared alert store (PostgreSQL 15, day partitions) against the SQLite alert index, in one run on the same
/// alerts (the alert-index scenario's seed-flow documents, 100 agents over 30 days): insert rate in batches of 4,096,
/// then the seed filter search over the last 24 hours and the chain query of one file on one agent, p50 and p99.
/// The PostgreSQL server is started for the run in a temporary directory (as the tests do) and removed after.
/// </summary>
internal sealed class SharedAlertStoreScenario : IScenario
{
    public string Name => "shared-alert-store";

    public string Description => "alert store: PostgreSQL (day partitions) vs the SQLite index, insert alerts/s, seed search and chain p50/p99 over 1,000,000 alerts";

    public async Task<int> RunAsync(string[] args)
    {
        var total = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 30;
        var now = AlertSamples.Start;
        var alerts = AlertIndexScenario.Generate(total, now);
        Console.WriteLine($"# {Name}: {total:N0} alerts, 100 agents, 30 days; {Environment.ProcessorCount} cores, .NET {Environment.Version}");

        using var temp = new TempDirectory();
        await using var server = await PostgresServer.StartAsync();
        var name = await server.CreateDatabaseAsync();
        await using var database = PostgresDatabase.Open(server.Url(name), server.Password);
        await database.MigrateAsync(CancellationToken.None);
        var time = new FixedTime(now);
        using var sqlite = new AlertIndex(Path.Combine(temp.Path, "alerts.db"), new AlertIndexOptions(), time);
        using var postgres = new PostgresAlertStore(database, "bench:1514", new AlertIndexOptions(), time);

        var stores = new (string Name, IAlertStore Store)[] { ("sqlite", sqlite), ("postgres", postgres) };
        foreach (var (label, store) in stores)
        {
            var clock = Stopwatch.StartNew();
            for (var offset = 0; offset < alerts.Length; offset += 4096)
            {
                var batch = alerts.AsSpan(offset, Math.Min(4096, alerts.Length - offset)).ToArray();
                store.Add([.. batch.Select(a => new AlertDocument(System.Text.Encoding.UTF8.GetBytes(a)))], null);
            }

            Console.WriteLine($"{label}: insert {alerts.Length / clock.Elapsed.TotalSeconds:N0} alerts/s");
        }

        await server.PsqlAsync(name, "ANALYZE");
        var seed = AlertQuery.Parse("rule.id: is one of 553,100092,87105,100201");
        foreach (var (label, store) in stores)
        {
            Report($"{label}: seed filter search, last 24 h, first 100 + total", repeats, () => store.Search(seed, now.AddHours(-24), now, 100).Total);
            Report($"{label}: chain of one file on one agent", repeats, () => store.Chain("042", "/root/f17.bin").Steps.Count);
        }

        return 0;
    }

    private static void Report(string what, int repeats, Func<long> run)
    {
        var result = run(); // warm
        var times = new List<double>();
        for (var i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        Console.WriteLine($"{what}: p50 {Stats.Percentile(times, 50):F1} ms, p99 {Stats.Percentile(times, 99):F1} ms ({result:N0} matching)");
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
