using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Vigil.Tests.Common;
using Vigil.Web.Index;

namespace Vigil.Benchmarks.Manager;

/// <summary>
/// The manager's alert index at size: insert rate (batches of 4,096 alerts, one transaction each, as the hosts add
/// them), then search and aggregation latency over the whole index. The alerts are seed-flow documents (FIM,
/// VirusTotal, removal, quarantine record, plus other FIM rules) from 100 agents over 30 days, so the last 24 hours
/// hold a thirtieth of them. Baselines in the same run: the same documents inserted into a table with no secondary
/// index (SQLite's floor), and the same rule-id search without the index (a scan of the time range).
/// </summary>
internal sealed class AlertIndexScenario : IScenario
{
    public string Name => "alert-index";

    public string Description => "alert index: insert alerts/s (target >= 50,000) and search/aggregation p50 over 1,000,000 alerts (target <= 100 ms)";

    public Task<int> RunAsync(string[] args) => Task.FromResult(Run(args));

    private int Run(string[] args)
    {
        var total = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 30;
        using var temp = new TempDirectory();
        var now = AlertSamples.Start;
        var alerts = Generate(total, now);
        var bytes = alerts.Sum(a => (long)a.Length);
        Console.WriteLine($"# {Name}: {total:N0} alerts ({bytes / total} bytes each on average), 100 agents, 30 days; {Environment.ProcessorCount} cores, .NET {Environment.Version}");

        var parseClock = Stopwatch.StartNew();
        var parsed = alerts.Count(a => AlertFields.Read(a) is not null);
        Console.WriteLine($"field extraction alone: {parsed / parseClock.Elapsed.TotalSeconds:N0} alerts/s");
        var baseline = InsertBaseline(Path.Combine(temp.Path, "baseline.db"), alerts);
        using var index = new AlertIndex(Path.Combine(temp.Path, "alerts.db"), new AlertIndexOptions(), new FixedTime(now));
        var batchRates = new List<double>();
        var clock = Stopwatch.StartNew();
        for (var offset = 0; offset < alerts.Length; offset += 4096)
        {
            var batch = alerts.AsSpan(offset, Math.Min(4096, alerts.Length - offset)).ToArray();
            var start = clock.Elapsed;
            index.Add(batch);
            batchRates.Add(batch.Length / (clock.Elapsed - start).TotalSeconds);
        }

        var insertRate = alerts.Length / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"insert: {insertRate:N0} alerts/s overall, median batch {Stats.Median(batchRates):N0} alerts/s, index file {new FileInfo(Path.Combine(temp.Path, "alerts.db")).Length / (1 << 20)} MiB (target >= 50,000/s: {(insertRate >= 50_000 ? "met" : "NOT met")})");
        Console.WriteLine($"baseline insert (same documents, no secondary index): {baseline:N0} alerts/s; ratio index/baseline {insertRate / baseline:F2}");

        var day = (now.AddHours(-24), now);
        var seed = AlertQuery.Parse("rule.id: is one of 553,100092,87105,100201");
        Report("search rule.id: is one of 553,100092,87105,100201, last 24 h, first 100 + total", repeats, () => index.Search(seed, day.Item1, day.Item2, 100).Total, target: true);
        Report("search rule.id: 87105, last 24 h", repeats, () => index.Search(AlertQuery.Parse("rule.id: 87105"), day.Item1, day.Item2, 100).Total);
        Report("search rule.id: 87105 AND agent.id: 042, last 7 days", repeats, () => index.Search(AlertQuery.Parse("rule.id: 87105 AND agent.id: 042"), now.AddDays(-7), now, 100).Total);
        Report("search data.virustotal.source.file: \"/root/f17.bin\", last 24 h", repeats, () => index.Search(AlertQuery.Parse("data.virustotal.source.file: \"/root/f17.bin\""), day.Item1, day.Item2, 100).Total);
        Report("search rule.groups: virustotal, last 24 h", repeats, () => index.Search(AlertQuery.Parse("rule.groups: virustotal"), day.Item1, day.Item2, 100).Total);
        Report("search free text \"removed threat\", last 24 h", repeats, () => index.Search(AlertQuery.Parse("\"removed threat\""), day.Item1, day.Item2, 100).Total);
        Report("search everything, last 30 days (newest 100 + total)", repeats, () => index.Search(AlertQuery.All, now.AddDays(-30), now, 100).Total);
        Report("histogram 60 buckets, seed filter, last 24 h", repeats, () => index.Histogram(seed, day.Item1, day.Item2, 60).Buckets.Sum(b => b.Count));
        Report("top 10 rules, last 24 h", repeats, () => index.Top(TopField.Rule, AlertQuery.All, day.Item1, day.Item2, 10).Count);
        Report("top 10 agents, last 24 h", repeats, () => index.Top(TopField.Agent, AlertQuery.All, day.Item1, day.Item2, 10).Count);
        Report("top 10 files, last 24 h", repeats, () => index.Top(TopField.File, AlertQuery.All, day.Item1, day.Item2, 10).Count);
        Report("chain of one file on one agent", repeats, () => index.Chain("042", "/root/f17.bin").Steps.Count);
        using (var connection = new SqliteConnection(index.ConnectionString))
        {
            connection.Open();
            using var scan = connection.CreateCommand();
            scan.CommandText = "SELECT count(*) FROM alerts NOT INDEXED WHERE ts >= $from AND ts < $to AND json_extract(json, '$.rule.id') IN ('553','100092','87105','100201')";
            scan.Parameters.AddWithValue("$from", day.Item1.ToUnixTimeMilliseconds());
            scan.Parameters.AddWithValue("$to", day.Item2.ToUnixTimeMilliseconds());
            Report("baseline: the seed filter's count by scanning the 24 h of alerts (no index)", Math.Min(repeats, 5), () => (long)scan.ExecuteScalar()!);
        }

        return 0;
    }

    private static void Report(string what, int repeats, Func<long> run, bool target = false)
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
        var p50 = Stats.Percentile(times, 50);
        Console.WriteLine($"{what}: p50 {p50:F1} ms, p99 {Stats.Percentile(times, 99):F1} ms ({result:N0} matching){(target ? $" (target p50 <= 100 ms: {(p50 <= 100 ? "met" : "NOT met")})" : "")}");
    }

    /// <summary>Seed flows (5 alerts each) and other FIM alerts, newest last, over 30 days before <paramref name="now"/>.</summary>
    internal static string[] Generate(int total, DateTimeOffset now)
    {
        var random = new Random(42);
        var alerts = new string[total];
        var span = TimeSpan.FromDays(30).TotalMilliseconds;
        var i = 0;
        while (i < total)
        {
            var at = now.AddMilliseconds(-span + (span * i / total));
            var agent = random.Next(1, 101).ToString("000", CultureInfo.InvariantCulture);
            var name = "host-" + agent;
            var path = $"/root/f{random.Next(0, 5000)}.bin";
            if (random.Next(10) == 0 && i + 5 <= total)
            {
                var fim = AlertSamples.NewId(at);
                var verdict = AlertSamples.NewId(at);
                alerts[i++] = AlertSamples.Fim(fim, at, path, agent, name);
                alerts[i++] = AlertSamples.VirusTotal(verdict, at, path, fim, agent, name);
                alerts[i++] = AlertSamples.Removal(AlertSamples.NewId(at), at, path, verdict, agent, name);
                alerts[i++] = AlertSamples.Quarantine(AlertSamples.NewId(at), at, "quarantine", i, path, verdict, agent, name);
                alerts[i++] = AlertSamples.Fim(AlertSamples.NewId(at), at, path, agent, name, rule: 553);
            }
            else
            {
                alerts[i++] = AlertSamples.Fim(AlertSamples.NewId(at), at, $"/etc/conf{random.Next(0, 20000)}", agent, name, rule: random.Next(2) == 0 ? 550 : 554);
            }
        }

        return alerts;
    }

    private static double InsertBaseline(string path, string[] alerts)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using (var setup = connection.CreateCommand())
        {
            setup.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE alerts(seq INTEGER PRIMARY KEY, json TEXT NOT NULL);";
            setup.ExecuteNonQuery();
        }

        var clock = Stopwatch.StartNew();
        for (var offset = 0; offset < alerts.Length; offset += 4096)
        {
            using var transaction = connection.BeginTransaction();
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO alerts(json) VALUES($json)";
            var json = insert.Parameters.Add("$json", SqliteType.Text);
            foreach (var alert in alerts.AsSpan(offset, Math.Min(4096, alerts.Length - offset)))
            {
                json.Value = alert;
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        return alerts.Length / clock.Elapsed.TotalSeconds;
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
