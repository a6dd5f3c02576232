using Microsoft.Extensions.Time.Testing;
using Vigil.Tests.Common;
using Vigil.Web.Index;

namespace Vigil.Web.Tests.Index;

public sealed class AlertIndexTests : IDisposable
{
    private static readonly DateTimeOffset T0 = AlertSamples.Start;
    private readonly TempDirectory _temp = new();
    private readonly FakeTimeProvider _time = new(T0.AddHours(1));
    private readonly AlertIndex _index;

    public AlertIndexTests() => _index = new AlertIndex(Path.Combine(_temp.Path, "alerts.db"), new AlertIndexOptions(), _time);

    public void Dispose()
    {
        _index.Dispose();
        _temp.Dispose();
    }

    /// <summary>The seed flow for one file on one agent: FIM → VirusTotal → removal → quarantine record.</summary>
    private (string Fim, string Verdict, string Removal, string Quarantine) SeedFlow(string path, string agentId, string agentName, DateTimeOffset at, long quarantineId)
    {
        var fim = AlertSamples.NewId(at);
        var verdict = AlertSamples.NewId(at);
        var removal = AlertSamples.NewId(at);
        var quarantine = AlertSamples.NewId(at);
        _index.Add([
            AlertSamples.Fim(fim, at, path, agentId, agentName),
            AlertSamples.VirusTotal(verdict, at.AddSeconds(1), path, fim, agentId, agentName),
            AlertSamples.Removal(removal, at.AddSeconds(2), path, verdict, agentId, agentName),
            AlertSamples.Quarantine(quarantine, at.AddSeconds(2), "quarantine", quarantineId, path, verdict, agentId, agentName),
            AlertSamples.Fim(AlertSamples.NewId(at), at.AddSeconds(3), path, agentId, agentName, rule: 553),
        ]);
        return (fim, verdict, removal, quarantine);
    }

    private AlertPage Search(string query) => _index.Search(AlertQuery.Parse(query), T0.AddDays(-1), T0.AddDays(1), 100);

    [Fact]
    public void Search_SeedFilter_FindsTheFourSeedRulesOnly()
    {
        SeedFlow("/root/eicar.com", "000", "host", T0, 1);
        _index.Add([AlertSamples.Fim(AlertSamples.NewId(T0), T0, "/etc/passwd", rule: 550)]);

        var page = Search("rule.id: is one of 553,100092,87105,100201");

        Assert.Equal(4, page.Total);
        Assert.Equal([553, 100092, 87105, 100201], page.Alerts.Select(a => a.RuleId)); // newest first
    }

    [Fact]
    public void Search_BooleansWildcardsNestedFieldsArraysAndFreeText()
    {
        SeedFlow("/root/eicar.com", "001", "web-01", T0, 1);
        SeedFlow("/home/x/eicar.com", "002", "web-02", T0.AddMinutes(1), 1);

        Assert.Equal(2, Search("data.virustotal.source.file: \"/root/eicar.com\" OR data.virustotal.source.file: /home/*").Total);
        Assert.Equal(1, Search("rule.id: 87105 AND NOT agent.name: web-01").Total);
        Assert.Equal(5, Search("agent.id: 002").Total);
        Assert.Equal(4, Search("file: /ROOT/* AND NOT rule.id: 553").Total); // wildcards ignore case
        Assert.Equal(2, Search("rule.mitre.id: T1203").Total); // an array field matches any element
        Assert.Equal(2, Search("rule.groups: vigil_quarantine").Total);
        Assert.Equal(2, Search("\"removed threat\"").Total);
        Assert.Equal(2, Search("rule.level >= 12 AND rule.id: 100092").Total);
        Assert.Equal(2, Search("data.virustotal.positives >= 60").Total);
        Assert.Equal(2, Search("data.virustotal: *").Total);
        Assert.Equal(0, Search("rule.id: 100201 rule.id: 553").Total); // side by side is AND
    }

    [Fact]
    public void Search_Groups_ThroughTheRulesThatCarriedThem_CheckedPerAlert()
    {
        SeedFlow("/root/eicar.com", "000", "host", T0, 1);

        // The same rule id with another group list (a changed ruleset): each alert answers for its own groups.
        _index.Add([AlertSamples.Fim(AlertSamples.NewId(T0), T0.AddMinutes(1), "/root/other").Replace("\"syscheck_file\"", "\"other_group\"", StringComparison.Ordinal)]);

        Assert.Equal(2, Search("rule.groups: syscheck_file").Total); // 100201 and 553 of the flow, not the changed one
        Assert.Equal(1, Search("rule.groups: other_group").Total);
        Assert.Equal(2, Search("rule.groups: syscheck_entry_added AND rule.id: 100201").Total); // the flow's 100201 and the changed one
        Assert.Equal([100092, 87105], Search("rule.groups: virustotal").Alerts.Select(a => a.RuleId));
        Assert.Equal(1, Search("rule.groups: vigil_*").Total);
        Assert.Equal(3, Search("rule.groups: syscheck").Total); // 100201, 553 and the changed one all keep "syscheck"
    }

    [Fact]
    public void Search_TimeRangeAndPaging()
    {
        for (var i = 0; i < 30; i++)
        {
            _index.Add([AlertSamples.Fim(AlertSamples.NewId(T0), T0.AddMinutes(i), $"/root/f{i}")]);
        }

        var page = _index.Search(AlertQuery.All, T0.AddMinutes(10), T0.AddMinutes(20), limit: 4, offset: 2);
        Assert.Equal(10, page.Total);
        Assert.Equal(["/root/f17", "/root/f16", "/root/f15", "/root/f14"], page.Alerts.Select(a => a.File));
        Assert.Equal(5, Search($"timestamp >= \"{T0.AddMinutes(25):O}\"").Total);
    }

    [Theory]
    [InlineData("rule.id: abc", "rule.id is a number; 'abc' is not")]
    [InlineData("rule.description > 5", "is text")]
    [InlineData("data.virustotal.positives > many", "needs a number")]
    [InlineData("timestamp: yesterday", "takes a time")]
    public void Search_ValuesOfTheWrongType_AreQueryErrors(string query, string expected)
    {
        var error = Assert.Throws<QueryException>(() => Search(query));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Search_ValuesAreParameters_NotSql()
    {
        SeedFlow("/root/eicar.com", "000", "host", T0, 1);
        Assert.Equal(0, Search("agent.name: \"x' OR 1=1 --\"").Total);
        Assert.Equal(0, Search("\"%\"").Total); // a literal percent sign, not a LIKE wildcard
        Assert.Equal(5, _index.Count());
    }

    [Fact]
    public void Chain_PreventionAlerts_AreThePreventionStage_AuditOnesToo()
    {
        _index.Add([
            AlertSamples.Fim(AlertSamples.NewId(T0), T0, "/srv/x"),
            AlertSamples.Prevention(AlertSamples.NewId(T0), T0.AddSeconds(1), "/srv/x", rule: 200801),
            AlertSamples.Prevention(AlertSamples.NewId(T0), T0.AddSeconds(2), "/srv/x", rule: 200800),
            AlertSamples.Prevention(AlertSamples.NewId(T0), T0.AddSeconds(3), "/srv/x", rule: 200802),
            AlertSamples.Prevention(AlertSamples.NewId(T0), T0.AddSeconds(4), "/srv/y", rule: 200802),
        ]);

        var chain = _index.Chain("000", "/srv/x");

        Assert.Equal([ChainStage.Fim, ChainStage.Prevention, ChainStage.Prevention, ChainStage.Prevention], chain.Steps.Select(s => s.Stage));
        Assert.Equal([100201, 200801, 200800, 200802], chain.Steps.Select(s => s.Alert.RuleId));
        Assert.Equal("prevention", Vigil.Web.Api.ChainApi.StageName(chain.Steps[3].Stage));
        Assert.Equal("/srv/y", Assert.Single(_index.Chain("000", "/srv/y").Steps).Alert.File);
    }

    [Fact]
    public void Chain_LinksFimVerdictResponseAndQuarantine_PerAgent()
    {
        var flow = SeedFlow("/root/eicar.com", "002", "web-02", T0, 7);
        SeedFlow("/root/eicar.com", "001", "web-01", T0, 7);

        var chain = _index.Chain("002", "/root/eicar.com");

        Assert.Equal([ChainStage.Fim, ChainStage.Verdict, ChainStage.Response, ChainStage.Quarantine, ChainStage.Fim], chain.Steps.Select(s => s.Stage));
        Assert.All(chain.Steps, s => Assert.Equal("002", s.Alert.AgentId));
        Assert.Equal(flow.Fim, chain.Steps[1].CausedBy);
        Assert.Equal(flow.Verdict, chain.Steps[2].CausedBy);
        var record = Assert.Single(chain.Quarantine);
        Assert.Equal((7L, QuarantineStates.Quarantined, flow.Verdict), (record.QuarantineId, record.State, record.AlertId));
    }

    [Fact]
    public void Add_NonAsciiText_ComesBackExactly()
    {
        // Paths, names and descriptions outside ASCII (and a character outside the BMP) survive the trip through the
        // index as they were written to alerts.json.
        var id = AlertSamples.NewId(T0);
        var json = AlertSamples.Fim(id, T0, "/root/PATH", "007", "HOST", rule: 554)
            .Replace("PATH", "données/résumé-日本-😀.pdf", StringComparison.Ordinal).Replace("HOST", "hôte-07", StringComparison.Ordinal);
        Assert.Contains("résumé-日本-😀", json, StringComparison.Ordinal); // unescaped, as alerts.json writes it
        var other = AlertSamples.Fim(AlertSamples.NewId(T0), T0, "/root/plain.txt", "007", "hôte-07", rule: 554);
        _index.Add([json, other]);

        var found = _index.Get(id)!;
        Assert.Equal(json, found.Json);
        Assert.Equal(("/root/données/résumé-日本-😀.pdf", "hôte-07"), (found.File, found.AgentName));
        Assert.Equal(id, Assert.Single(Search("agent.name: \"hôte-07\" AND file: \"/root/données/résumé-日本-😀.pdf\"").Alerts).Id);
        Assert.Single(_index.Chain("007", "/root/données/résumé-日本-😀.pdf").Steps);
    }

    [Fact]
    public void Chain_FileSeenOnDaysFarApart_EveryDaysAlertsOldestFirst()
    {
        // The file index leads with the day: the chain must still find the file on every day the index holds, with
        // the days between empty, and only on this agent.
        var days = new[] { T0.AddDays(-40), T0.AddDays(-3).AddHours(23).AddMinutes(59).AddSeconds(59), T0.AddDays(-2), T0 };
        foreach (var at in days)
        {
            _index.Add([AlertSamples.Fim(AlertSamples.NewId(at), at, "/root/drifting", "003", "db-03", rule: 550)]);
            _index.Add([AlertSamples.Fim(AlertSamples.NewId(at), at, "/root/other", "003", "db-03", rule: 550)]);
        }

        _index.Add([AlertSamples.Fim(AlertSamples.NewId(T0), T0, "/root/drifting", "004", "db-04", rule: 550)]);

        var chain = _index.Chain("003", "/root/drifting");

        Assert.Equal(days, chain.Steps.Select(s => s.Alert.Timestamp));
        Assert.All(chain.Steps, s => Assert.Equal(("003", "/root/drifting"), (s.Alert.AgentId, s.Alert.File)));
    }

    [Fact]
    public void Open_IndexOfAnEarlierVersion_KeepsItsAlertsAndFindsChains()
    {
        // An index written before the file index led with the day: it opens, its alerts stay, chains still work.
        _index.Dispose();
        var path = Path.Combine(_temp.Path, "earlier.db");
        using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                PRAGMA journal_mode=WAL;
                CREATE TABLE alerts(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, alert_id TEXT NOT NULL, rule_id INTEGER NOT NULL,
                    level INTEGER NOT NULL, agent_id TEXT NOT NULL, agent_name TEXT NOT NULL, description TEXT NOT NULL, file TEXT,
                    caused_by TEXT, groups TEXT NOT NULL, json TEXT NOT NULL);
                CREATE INDEX alerts_file ON alerts(file, agent_id) WHERE file IS NOT NULL;
                """;
            create.ExecuteNonQuery();
        }

        using var index = new AlertIndex(path, new AlertIndexOptions(), _time);
        index.Add([AlertSamples.Fim(AlertSamples.NewId(T0), T0, "/root/kept", "001", "web-01")]);

        Assert.Equal(T0, Assert.Single(index.Chain("001", "/root/kept").Steps).Alert.Timestamp);
        using var check = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        check.Open();
        using var indexes = check.CreateCommand();
        indexes.CommandText = "SELECT group_concat(name) FROM sqlite_master WHERE type = 'index' AND name LIKE 'alerts_file%'";
        Assert.Equal("alerts_file_day", indexes.ExecuteScalar());
    }

    [Fact]
    public void Add_ManyBatches_WalStaysBoundedAndEveryAlertStays()
    {
        // About 30 MiB of WAL writes against checkpoints every 1 MiB and a 4 MiB ceiling: whatever the checkpointer's
        // timing, the WAL never holds it all, and every alert is there after a reopen.
        var options = new AlertIndexOptions { CheckpointBytes = 1 << 20, MaxWalBytes = 4 << 20 };
        var path = Path.Combine(_temp.Path, "bounded.db");
        var at = T0.AddHours(-20);
        var total = 0;
        long largestWal = 0;
        using (var index = new AlertIndex(path, options, _time))
        {
            for (var batch = 0; batch < 40; batch++)
            {
                var alerts = new List<string>();
                for (var i = 0; i < 500; i++)
                {
                    alerts.Add(AlertSamples.Fim(AlertSamples.NewId(at), at, $"/srv/f{batch}-{i}.bin", "005", "build-05", rule: 554));
                    at = at.AddMilliseconds(7);
                    total++;
                }

                index.Add(alerts);
                largestWal = Math.Max(largestWal, new FileInfo(path + "-wal").Length);
            }
        }

        Assert.True(largestWal <= 8 << 20, $"the WAL grew to {largestWal:N0} bytes");
        using var reopened = new AlertIndex(path, options, _time);
        Assert.Equal(total, reopened.Count());
        Assert.Single(reopened.Chain("005", "/srv/f39-499.bin").Steps);
        Assert.Single(reopened.Chain("005", "/srv/f0-0.bin").Steps);
    }

    [Fact]
    public void Quarantine_FollowsRestoreAndDelete_KeyedByAgentAndId()
    {
        SeedFlow("/root/a", "001", "web-01", T0, 1);
        SeedFlow("/root/b", "002", "web-02", T0, 1);
        _index.Add([AlertSamples.Quarantine(AlertSamples.NewId(T0), T0.AddMinutes(5), "restore", 1, "/root/a", null, "001", "web-01")]);
        _index.Add([AlertSamples.Quarantine(AlertSamples.NewId(T0), T0.AddMinutes(6), "delete", 1, "/root/b", null, "002", "web-02")]);

        var restored = _index.QuarantineRecord("001", 1)!;
        var deleted = _index.QuarantineRecord("002", 1)!;
        Assert.Equal((QuarantineStates.Restored, "/root/a", T0.AddMinutes(5)), (restored.State, restored.RestoredTo, restored.UpdatedAt));
        Assert.Equal(QuarantineStates.Deleted, deleted.State);
        Assert.Equal(T0.AddSeconds(2), deleted.QuarantinedAt);
        Assert.Equal(2, _index.Quarantine().Count);
    }

    [Fact]
    public void HistogramAndTop_CountWhatMatches()
    {
        SeedFlow("/root/a", "001", "web-01", T0, 1);
        SeedFlow("/root/b", "002", "web-02", T0.AddMinutes(30), 2);
        SeedFlow("/root/c", "002", "web-02", T0.AddMinutes(31), 3);

        var histogram = _index.Histogram(AlertQuery.Parse("rule.id: 87105"), T0, T0.AddHours(1), 6);
        Assert.Equal(TimeSpan.FromMinutes(10), histogram.Interval);
        Assert.Equal([1L, 0, 0, 2, 0, 0], histogram.Buckets.Select(b => b.Count));

        var agents = _index.Top(TopField.Agent, AlertQuery.All, T0, T0.AddHours(1), 10);
        Assert.Equal([("002", "web-02", 10L), ("001", "web-01", 5L)], agents.Select(t => (t.Key, t.Label, t.Count)));
        var files = _index.Top(TopField.File, AlertQuery.Parse("agent.id: 002"), T0, T0.AddHours(1), 1);
        Assert.Equal(5, Assert.Single(files).Count);
        var rules = _index.Top(TopField.Rule, AlertQuery.Parse("rule.id: 87105"), T0, T0.AddHours(1), 10);
        Assert.Equal(("87105", 3L), (Assert.Single(rules).Key, rules[0].Count));
        Assert.StartsWith("VirusTotal: Alert", rules[0].Label, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_NonAlertLines_AreSkippedWithoutLosingTheRest()
    {
        var added = _index.Add(["{\"not\":\"an alert\"}", "not json at all", AlertSamples.Fim(AlertSamples.NewId(T0), T0, "/root/x")]);
        Assert.Equal("/root/x", Assert.Single(added).File);
        Assert.Equal(1, _index.Count());
    }

    [Fact]
    public void GetAndAfter_ReturnTheStoredDocument()
    {
        var flow = SeedFlow("/root/eicar.com", "000", "host", T0, 1);
        var verdict = _index.Get(flow.Verdict)!;
        Assert.Equal(87105, verdict.RuleId);
        Assert.Contains("66 engines detected", verdict.Json, StringComparison.Ordinal);
        Assert.Equal(3, _index.After(verdict.Seq, 100).Count);
        Assert.Null(_index.Get("no.such"));

        // Found by the time its id names, or anywhere when the id does not name its time.
        _index.Add([AlertSamples.Fim("42.7", T0, "/root/odd-id"), AlertSamples.Fim("shape-less", T0, "/root/no-time")]);
        Assert.Equal("/root/odd-id", _index.Get("42.7")!.File);
        Assert.Equal("/root/no-time", _index.Get("shape-less")!.File);
    }

    [Fact]
    public void Retention_DropsOldAlertsThenTheOldestUntilTheSizeFits()
    {
        using var index = new AlertIndex(Path.Combine(_temp.Path, "small.db"), new AlertIndexOptions { MaxAge = TimeSpan.FromDays(1), MaxBytes = 2 << 20 }, _time);
        index.Add([AlertSamples.Fim(AlertSamples.NewId(T0), T0.AddDays(-3), "/root/old")]);
        var padding = new string('x', 2000);
        for (var batch = 0; batch < 20; batch++)
        {
            index.Add([.. Enumerable.Range(0, 100).Select(i => AlertSamples.Fim(AlertSamples.NewId(T0), T0.AddSeconds((batch * 100) + i), "/root/" + padding + i))]);
        }

        var removed = index.ApplyRetention();

        Assert.True(removed > 1, $"removed {removed}");
        Assert.Equal(0, index.Search(AlertQuery.Parse("file: /root/old"), T0.AddDays(-10), T0.AddDays(1), 10).Total);
        var left = index.Search(AlertQuery.All, T0.AddDays(-10), T0.AddDays(1), 1);
        Assert.InRange(left.Total, 1, 2000 - 1);
        Assert.Equal(T0.AddSeconds(1999), left.Alerts[0].Timestamp); // the newest stay
    }
}
