using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Vigil.Web.Index;

/// <summary>
/// The index's searches: pages, histograms, top-N, single alerts, the live tail and a file's detection chain. Each
/// runs on a read-only connection of its own, so it never waits for the writer (WAL).
/// </summary>
internal sealed class AlertSearch(string connectionString, QuarantineProjection quarantine)
{
    private const string Columns = "seq, alert_id, ts, agent_id, agent_name, rule_id, level, description, file, groups, json";

    /// <summary>One page of the alerts matching <paramref name="query"/> in [from, to), newest first, and the total.</summary>
    public AlertPage Search(AlertQuery query, DateTimeOffset from, DateTimeOffset to, int limit, int offset = 0)
    {
        using var connection = OpenReader();
        var where = Where(query, from, to, out var parameters);
        using var count = IndexSql.Command(connection, $"SELECT count(*) FROM alerts WHERE {where}", parameters);
        var total = (long)count.ExecuteScalar()!;
        using var select = IndexSql.Command(connection, $"""
            SELECT {Columns} FROM alerts WHERE {where} ORDER BY ts DESC, seq DESC LIMIT {Math.Clamp(limit, 0, 10_000)} OFFSET {Math.Max(0, offset)}
            """, parameters);
        return new AlertPage(total, ReadAlerts(select));
    }

    /// <summary>Alerts per bucket over [from, to): <paramref name="buckets"/> buckets of equal width (at least one second).</summary>
    public AlertHistogram Histogram(AlertQuery query, DateTimeOffset from, DateTimeOffset to, int buckets)
    {
        buckets = Math.Clamp(buckets, 1, 1000);
        var span = Math.Max(1, (to - from).Ticks);
        var width = Math.Max(1000, (long)Math.Ceiling(span / (double)TimeSpan.TicksPerMillisecond / buckets));
        var start = from.ToUnixTimeMilliseconds();
        using var connection = OpenReader();
        var where = Where(query, from, to, out var parameters);
        using var command = IndexSql.Command(connection, $"SELECT (ts - {start}) / {width} AS bucket, count(*) FROM alerts WHERE {where} GROUP BY bucket", parameters);
        var counts = new long[buckets];
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var bucket = reader.GetInt64(0);
                if (bucket >= 0 && bucket < buckets)
                {
                    counts[bucket] += reader.GetInt64(1);
                }
            }
        }

        var interval = TimeSpan.FromMilliseconds(width);
        return new AlertHistogram(from, interval, [.. counts.Select((c, i) => new HistogramBucket(from + (interval * i), c))]);
    }

    /// <summary>The <paramref name="size"/> rules, agents or files with the most matching alerts in [from, to).</summary>
    public IReadOnlyList<TermCount> Top(TopField field, AlertQuery query, DateTimeOffset from, DateTimeOffset to, int size)
    {
        using var connection = OpenReader();
        var where = Where(query, from, to, out var parameters);
        var (key, label, extra) = field switch
        {
            TopField.Rule => ("rule_id", "max(description)", ""),
            TopField.Agent => ("agent_id", "max(agent_name)", ""),
            _ => ("file", "file", " AND file IS NOT NULL"),
        };
        using var command = IndexSql.Command(connection, $"""
            SELECT {key}, {label}, count(*) AS n FROM alerts WHERE {where}{extra} GROUP BY {key} ORDER BY n DESC, {key} LIMIT {Math.Clamp(size, 1, 1000)}
            """, parameters);
        using var reader = command.ExecuteReader();
        var terms = new List<TermCount>();
        while (reader.Read())
        {
            terms.Add(new TermCount(Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!, reader.GetString(1), reader.GetInt64(2)));
        }

        return terms;
    }

    /// <summary>
    /// The alert with this Wazuh id, or null. Ids are <c>&lt;unix seconds of the alert&gt;.&lt;offset&gt;</c>, so the time
    /// index finds it without an index of its own; an id of another shape is looked for everywhere.
    /// </summary>
    public IndexedAlert? Get(string alertId)
    {
        using var connection = OpenReader();
        var dot = alertId.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0 && long.TryParse(alertId.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds < long.MaxValue / 2000)
        {
            using var near = IndexSql.Command(connection, $"SELECT {Columns} FROM alerts WHERE ts >= $p0 AND ts < $p1 AND alert_id = $p2 ORDER BY seq DESC LIMIT 1",
                [(seconds - 1) * 1000, (seconds + 2) * 1000, alertId]);
            if (ReadAlerts(near).FirstOrDefault() is { } found)
            {
                return found;
            }
        }

        using var command = IndexSql.Command(connection, $"SELECT {Columns} FROM alerts WHERE alert_id = $p0 ORDER BY seq DESC LIMIT 1", [alertId]);
        return ReadAlerts(command).FirstOrDefault();
    }

    /// <summary>Alerts added after <paramref name="seq"/>, oldest first (a live view catching up).</summary>
    public IReadOnlyList<IndexedAlert> After(long seq, int limit)
    {
        using var connection = OpenReader();
        using var command = IndexSql.Command(connection, $"SELECT {Columns} FROM alerts WHERE seq > $p0 ORDER BY seq LIMIT {Math.Clamp(limit, 1, 10_000)}", [seq]);
        return ReadAlerts(command);
    }

    /// <summary>The detection chain of <paramref name="file"/> on <paramref name="agentId"/>: its alerts oldest first and its quarantine records.</summary>
    public DetectionChain Chain(string agentId, string file)
    {
        using var connection = OpenReader();
        using var command = IndexSql.Command(connection, $"""
            WITH RECURSIVE days(day) AS (
                SELECT min(ts) / {AlertIndexSchema.MillisecondsPerDay} FROM alerts
                UNION ALL SELECT day + 1 FROM days WHERE day < (SELECT max(ts) / {AlertIndexSchema.MillisecondsPerDay} FROM alerts))
            SELECT {Columns}, caused_by FROM alerts
            WHERE ts / {AlertIndexSchema.MillisecondsPerDay} IN days AND file = $p0 AND agent_id = $p1 ORDER BY ts, seq LIMIT 1000
            """, [file, agentId]);
        var steps = new List<ChainStep>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var alert = ReadAlert(reader);
                steps.Add(new ChainStep(AlertIndex.StageOf(alert), alert, reader.IsDBNull(11) ? null : reader.GetString(11)));
            }
        }

        return new DetectionChain(agentId, file, steps, quarantine.OfFile(agentId, file));
    }

    /// <summary>How many alerts the index holds.</summary>
    public long Count()
    {
        using var connection = OpenReader();
        using var command = IndexSql.Command(connection, "SELECT count(*) FROM alerts", []);
        return (long)command.ExecuteScalar()!;
    }

    private SqliteConnection OpenReader() => IndexSql.OpenReader(connectionString);

    private static List<IndexedAlert> ReadAlerts(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var alerts = new List<IndexedAlert>();
        while (reader.Read())
        {
            alerts.Add(ReadAlert(reader));
        }

        return alerts;
    }

    private static IndexedAlert ReadAlert(SqliteDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetString(1),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
        reader.GetString(3),
        reader.GetString(4),
        reader.GetInt32(5),
        reader.GetInt32(6),
        reader.GetString(7),
        reader.IsDBNull(8) ? null : reader.GetString(8),
        reader.GetString(9).Split(',', StringSplitOptions.RemoveEmptyEntries),
        reader.GetString(10));

    private static string Where(AlertQuery query, DateTimeOffset from, DateTimeOffset to, out List<object> parameters)
    {
        parameters = [from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds()];
        var sql = new StringBuilder("ts >= $p0 AND ts < $p1");
        if (query is not AlertQuery.MatchAll)
        {
            sql.Append(" AND (");
            new SqlCompiler(sql, parameters).Compile(query);
            sql.Append(')');
        }

        return sql.ToString();
    }
}
