using Microsoft.Extensions.Time.Testing;
using Vigil.Storage.Postgres.Alerts;
using Vigil.Tests.Common;
using Vigil.Web.Index;

namespace Vigil.Storage.Postgres.Tests.Alerts;

public sealed class PostgresAlertStoreTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    private static readonly DateTimeOffset s_now = AlertSamples.Start;
    private readonly FakeTimeProvider _time = new(s_now);

    private async Task<PostgresDatabase> OpenAsync()
    {
        var database = await fixture.OpenFreshAsync();
        await database.MigrateAsync(CancellationToken.None);
        return database;
    }

    // One file's flow on agent 001: FIM, verdict, quarantine; and noise on other days, agents and files.
    private static List<string> Flow(string path, out string fimId)
    {
        var fimAt = s_now.AddMinutes(-30);
        fimId = AlertSamples.NewId(fimAt);
        var verdictId = AlertSamples.NewId(fimAt.AddSeconds(2));
        return
        [
            AlertSamples.Fim(fimId, fimAt, path, "001", "web01"),
            AlertSamples.VirusTotal(verdictId, fimAt.AddSeconds(2), path, fimId, "001", "web01"),
            AlertSamples.Quarantine(AlertSamples.NewId(fimAt.AddSeconds(3)), fimAt.AddSeconds(3), "quarantine", 7, path, verdictId, "001", "web01"),
            AlertSamples.Fim(AlertSamples.NewId(s_now.AddDays(-3)), s_now.AddDays(-3), path, "002", "db01", rule: 554),
            AlertSamples.Fim(AlertSamples.NewId(s_now.AddDays(-1)), s_now.AddDays(-1), "/etc/passwd", "002", "db01", rule: 554),
            AlertSamples.Fim(AlertSamples.NewId(s_now.AddMinutes(-5)), s_now.AddMinutes(-5), "/root/notes.txt", "001", "web01"),
        ];
    }

    [Fact(Timeout = 120_000)]
    public async Task Add_OnManagerA_IsSearchedAndChainedThroughManagerB()
    {
        await using var database = await OpenAsync();
        using var a = new PostgresAlertStore(database, "mgr-a:1514", new AlertIndexOptions(), _time);
        using var b = new PostgresAlertStore(database, "mgr-b:1514", new AlertIndexOptions(), _time);
        a.CreatePartitionsAhead();
        var alerts = Flow("/root/eicar.com", out var fimId);

        var added = ((IAlertStore)a).Add(alerts, sourceEnd: 4096);
        Assert.Equal(alerts.Count, added.Count);
        Assert.Equal(4096, a.SourceEnd);
        Assert.Null(b.SourceEnd); // where alerts.json is taken up to is each manager's own

        var page = b.Search(AlertQuery.Parse("agent.id: 001"), s_now.AddDays(-7), s_now.AddMinutes(1), 10);
        Assert.Equal(4, page.Total);
        Assert.Equal(fimId, page.Alerts[^1].Id);
        Assert.Equal(fimId, b.Get(fimId)?.Id);

        var chain = b.Chain("001", "/root/eicar.com");
        Assert.Equal([ChainStage.Fim, ChainStage.Verdict, ChainStage.Quarantine], chain.Steps.Select(s => s.Stage));
        Assert.Equal(fimId, chain.Steps[1].CausedBy);
        var record = Assert.Single(chain.Quarantine);
        Assert.Equal(QuarantineStates.Quarantined, record.State);
        Assert.Equal(7, b.QuarantineRecord("001", 7)?.QuarantineId);

        Assert.Equal(alerts.Count, b.Count());
        Assert.Equal(4, b.After(added[1].Seq, 100).Count);
        Assert.Equal(2, b.Top(TopField.Agent, AlertQuery.All, s_now.AddDays(-7), s_now.AddMinutes(1), 10).Count);
        var histogram = b.Histogram(AlertQuery.All, s_now.AddHours(-1), s_now, 60);
        Assert.Equal(4, histogram.Buckets.Sum(h => h.Count));

        // One partition per day the alerts fell on, plus today's and the ones ahead.
        var partitions = await fixture.Server.PsqlAsync(DatabaseName(database),
            "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'alerts'::regclass");
        Assert.Equal("alerts_d20261125,alerts_d20261127,alerts_d20261128,alerts_d20261129,alerts_d20261130", partitions);
    }

    [Fact(Timeout = 120_000)]
    public async Task Search_EveryQueryShape_FindsWhatTheSqliteIndexFinds()
    {
        await using var database = await OpenAsync();
        using var store = new PostgresAlertStore(database, "mgr-a:1514", new AlertIndexOptions(), _time);
        using var temp = new TempDirectory("vigil-pg-alerts");
        using var sqlite = new AlertIndex(temp.Combine("alerts.db"), new AlertIndexOptions(), _time);
        var alerts = Flow("/root/eicar.com", out _);
        alerts.AddRange(Flow("/tmp/Other_File.bin", out _));
        ((IAlertStore)store).Add(alerts);
        sqlite.Add(alerts);

        string[] queries =
        [
            "", "rule.id: 100201", "rule.id: is one of 554,87105", "rule.id: 1002*", "rule.level >= 7", "rule.level < 5",
            "agent.id: 002", "agent.name: WEB*", "rule.groups: syscheck", "rule.groups: virus*", "rule.groups: (syscheck or vigil_quarantine)",
            "syscheck.path: /root/*", "syscheck.path: \"/etc/passwd\"", "data.virustotal.positives > 10", "data.virustotal.positives <= 10",
            "data.virustotal.source.file: *", "rule.mitre.id: T1203", "rule.pci_dss: 11.4", "eicar", "\"other_file\"", "NOT rule.id: 554",
            "NOT syscheck.path: /root/*", "file: /root/eicar.com AND rule.level > 5", "timestamp >= 2026-11-28T09:00:00Z", "id: *",
            "data.parameters.id: 7", "decoder.name: ar_log*",
        ];
        foreach (var text in queries)
        {
            var query = AlertQuery.Parse(text);
            var expected = sqlite.Search(query, s_now.AddDays(-7), s_now.AddMinutes(1), 100).Alerts.Select(a => a.Id).Order().ToList();
            var found = store.Search(query, s_now.AddDays(-7), s_now.AddMinutes(1), 100).Alerts.Select(a => a.Id).Order().ToList();
            Assert.True(expected.SequenceEqual(found), $"'{text}': SQLite found [{string.Join(", ", expected)}], PostgreSQL [{string.Join(", ", found)}]");
        }

        Assert.Throws<QueryException>(() => store.Search(AlertQuery.Parse("agent.id > 3"), s_now.AddDays(-7), s_now, 10));
        Assert.Throws<QueryException>(() => store.Search(AlertQuery.Parse("data.x > abc"), s_now.AddDays(-7), s_now, 10));
    }

    [Fact(Timeout = 120_000)]
    public async Task ApplyRetention_DaysPastTheMaximumAge_AreDroppedWhole()
    {
        await using var database = await OpenAsync();
        using var store = new PostgresAlertStore(database, "mgr-a:1514", new AlertIndexOptions { MaxAge = TimeSpan.FromDays(2) }, _time);
        ((IAlertStore)store).Add(Flow("/root/eicar.com", out _));

        Assert.Equal(1, store.ApplyRetention()); // the alert of 3 days ago; the one of yesterday stays
        Assert.Equal(5, store.Count());
        var partitions = await fixture.Server.PsqlAsync(DatabaseName(database),
            "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'alerts'::regclass");
        Assert.DoesNotContain("alerts_d20261125", partitions);

        // A store that sees the dropped day again creates its partition again.
        ((IAlertStore)store).Add([AlertSamples.Fim(AlertSamples.NewId(s_now.AddDays(-3)), s_now.AddDays(-3), "/x", "003", "x")]);
        Assert.Equal(6, store.Count());
    }

    private static AlertDocument Document(string json, string agent, ulong sequence) =>
        new(System.Text.Encoding.UTF8.GetBytes(json), Event: new AlertEventKey(agent, sequence));

    [Fact(Timeout = 120_000)]
    public async Task Add_OneEventAnalysedOnTwoManagers_IsStoredOnce()
    {
        await using var database = await OpenAsync();
        using var a = new PostgresAlertStore(database, "mgr-a:1514", new AlertIndexOptions(), _time);
        using var b = new PostgresAlertStore(database, "mgr-b:1514", new AlertIndexOptions(), _time);

        // Events 1-3 of agent 001 analysed on A, then 2-5 on B (the agent left A while A was still analysing).
        string Fim(ulong sequence, int rule = 550) =>
            AlertSamples.Fim(AlertSamples.NewId(s_now.AddSeconds(sequence)), s_now.AddSeconds(sequence), $"/srv/f{sequence}", "001", "web01", rule: rule);
        Assert.Equal(3, a.Add([.. new ulong[] { 1, 2, 3 }.Select(q => Document(Fim(q), "001", q))], sourceEnd: null));
        Assert.Equal(2, b.Add([.. new ulong[] { 2, 3, 4, 5 }.Select(q => Document(Fim(q), "001", q))], sourceEnd: null));

        // Another rule on the same event, the same sequence of another agent, and alerts of no agent's event all count.
        Assert.Equal(4, b.Add(
            [
                Document(Fim(2, rule: 554), "001", 2),
                Document(Fim(2), "002", 2),
                new AlertDocument(System.Text.Encoding.UTF8.GetBytes(Fim(2))),
                new AlertDocument(System.Text.Encoding.UTF8.GetBytes(Fim(2))),
            ], sourceEnd: null));

        // A repeat within one batch is one alert.
        Assert.Equal(1, a.Add([Document(Fim(6), "001", 6), Document(Fim(6), "001", 6)], sourceEnd: null));

        Assert.Equal(10, a.Count());
        var perEvent = await fixture.Server.PsqlAsync(DatabaseName(database),
            "SELECT string_agg(agent_id || ':' || event_seq || ':' || rule_id || '=' || manager, ',' ORDER BY agent_id, event_seq, rule_id) FROM alert_events");
        Assert.Equal("001:1:550=mgr-a:1514,001:2:550=mgr-a:1514,001:2:554=mgr-b:1514,001:3:550=mgr-a:1514,001:4:550=mgr-b:1514,001:5:550=mgr-b:1514,001:6:550=mgr-a:1514,002:2:550=mgr-b:1514", perEvent);
    }

    [Fact(Timeout = 120_000)]
    public async Task Add_TwoManagersAtOnce_StoreEachEventOnce()
    {
        await using var database = await OpenAsync();
        using var a = new PostgresAlertStore(database, "mgr-a:1514", new AlertIndexOptions(), _time);
        using var b = new PostgresAlertStore(database, "mgr-b:1514", new AlertIndexOptions(), _time);
        a.CreatePartitionsAhead();

        // Both managers add the alerts of the same 2,000 events in batches of 50, concurrently.
        int AddAll(PostgresAlertStore store) => Enumerable.Range(0, 40).Sum(batch => store.Add(
            [.. Enumerable.Range(batch * 50 + 1, 50).Select(q => Document(
                AlertSamples.Fim(AlertSamples.NewId(s_now), s_now, $"/srv/f{q}", "001", "web01"), "001", (ulong)q))], sourceEnd: null));
        var added = await Task.WhenAll(Task.Run(() => AddAll(a)), Task.Run(() => AddAll(b)));

        Assert.Equal(2000, added.Sum());
        Assert.Equal(2000, a.Count());
        Assert.Equal("2000", await fixture.Server.PsqlAsync(DatabaseName(database), "SELECT count(DISTINCT json::json->'syscheck'->>'path') FROM alerts"));
    }

    [Fact(Timeout = 120_000)]
    public async Task ApplyRetention_ForgetsTheEventsOfTheDaysItDrops()
    {
        await using var database = await OpenAsync();
        using var store = new PostgresAlertStore(database, "mgr-a:1514", new AlertIndexOptions { MaxAge = TimeSpan.FromDays(2) }, _time);
        store.Add(
            [
                Document(AlertSamples.Fim(AlertSamples.NewId(s_now.AddDays(-3)), s_now.AddDays(-3), "/old", "001", "web01"), "001", 1),
                Document(AlertSamples.Fim(AlertSamples.NewId(s_now), s_now, "/new", "001", "web01"), "001", 2),
            ], sourceEnd: null);

        Assert.Equal(1, store.ApplyRetention());
        Assert.Equal("2", await fixture.Server.PsqlAsync(DatabaseName(database), "SELECT string_agg(event_seq::text, ',') FROM alert_events"));
    }

    private static string DatabaseName(PostgresDatabase database) => database.Source.ConnectionString.Split("Database=")[1].Split(';')[0];
}
