using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Vigil.Web.Index;

namespace Vigil.Storage.Postgres.Alerts;

/// <summary>
/// The alert store several managers share in PostgreSQL, behind the same search, aggregation, chain and quarantine
/// API as the SQLite <see cref="AlertIndex"/>: each manager adds the alerts it wrote, any manager's API and dashboard
/// reads all of them. Alerts are partitioned by UTC day (<c>alerts_dYYYYMMDD</c>), so a search over a time range
/// reads only its days and retention drops whole days; partitions are created ahead (today and the next
/// <see cref="DaysAhead"/> days) and, for an alert of another day, before its batch is written.
/// A batch is one transaction: a binary COPY of its rows, its quarantine changes and where this manager's
/// alerts.json is taken up to.
/// </summary>
internal sealed class PostgresAlertStore(PostgresDatabase database, string managerName, AlertIndexOptions options, TimeProvider time) : IAlertStore
{
    public const int DaysAhead = 2;
    private const long MillisecondsPerDay = 86_400_000;

    // An arbitrary constant: the advisory lock that serialises creating partitions, so two managers creating the same
    // day's partition do not both try.
    private const long PartitionLock = 0x76_69_67_69_6C_00_00_03;

    private const string Columns = "seq, alert_id, ts, agent_id, agent_name, rule_id, level, description, file, groups, json";

    private readonly HashSet<long> _days = [];
    private readonly HashSet<(int RuleId, string Groups)> _ruleGroups = [];
    private readonly Lock _gate = new();

    public string ManagerName => managerName;

    public bool IsTransient(Exception error) =>
        error is NpgsqlException { IsTransient: true } or NpgsqlException { InnerException: IOException or SocketException or TimeoutException };

    public long? SourceEnd
    {
        get
        {
            using var connection = database.Source.OpenConnection();
            using var command = Command(connection, "SELECT json_end FROM alert_sources WHERE manager = @p0", [managerName]);
            return command.ExecuteScalar() is long end ? end : null;
        }
    }

    public void SetSourceEnd(long end)
    {
        using var connection = database.Source.OpenConnection();
        SaveSourceEnd(connection, null, end);
    }

    private void SaveSourceEnd(NpgsqlConnection connection, NpgsqlTransaction? transaction, long end)
    {
        using var command = Command(connection, """
            INSERT INTO alert_sources(manager, json_end) VALUES (@p0, @p1)
            ON CONFLICT (manager) DO UPDATE SET json_end = excluded.json_end, updated_at = now()
            """, [managerName, end]);
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    /// <summary>Creates the partitions of today and the next <see cref="DaysAhead"/> days that do not exist yet.</summary>
    public void CreatePartitionsAhead()
    {
        var today = time.GetUtcNow().ToUnixTimeMilliseconds() / MillisecondsPerDay;
        lock (_gate)
        {
            using var connection = database.Source.OpenConnection();
            EnsurePartitions(connection, Enumerable.Range(0, DaysAhead + 1).Select(d => today + d));
        }
    }

    private void EnsurePartitions(NpgsqlConnection connection, IEnumerable<long> days)
    {
        var missing = days.Where(d => !_days.Contains(d)).Distinct().Order().ToList();
        if (missing.Count == 0)
        {
            return;
        }

        LoadPartitions(connection);
        missing.RemoveAll(_days.Contains);
        if (missing.Count == 0)
        {
            return;
        }

        using var transaction = connection.BeginTransaction();
        using (var lockCommand = Command(connection, $"SELECT pg_advisory_xact_lock({PartitionLock})", []))
        {
            lockCommand.Transaction = transaction;
            lockCommand.ExecuteNonQuery();
        }

        foreach (var day in missing)
        {
            using var create = Command(connection, string.Create(CultureInfo.InvariantCulture,
                $"CREATE TABLE IF NOT EXISTS {PartitionName(day)} PARTITION OF alerts FOR VALUES FROM ({day * MillisecondsPerDay}) TO ({(day + 1) * MillisecondsPerDay})"), []);
            create.Transaction = transaction;
            create.ExecuteNonQuery();
        }

        transaction.Commit();
        _days.UnionWith(missing);
    }

    private static string PartitionName(long day) =>
        "alerts_d" + DateTimeOffset.FromUnixTimeMilliseconds(day * MillisecondsPerDay).ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>The day partitions that exist, oldest first: their day number and name.</summary>
    private static List<(long Day, string Name)> Partitions(NpgsqlConnection connection)
    {
        using var command = Command(connection, """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = 'alerts' AND p.relnamespace = current_schema()::regnamespace
            """, []);
        using var reader = command.ExecuteReader();
        var partitions = new List<(long, string)>();
        while (reader.Read())
        {
            var name = reader.GetString(0);
            if (name.StartsWith("alerts_d", StringComparison.Ordinal)
                && DateTimeOffset.TryParseExact(name["alerts_d".Length..], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
            {
                partitions.Add((date.ToUnixTimeMilliseconds() / MillisecondsPerDay, name));
            }
        }

        partitions.Sort();
        return partitions;
    }

    private void LoadPartitions(NpgsqlConnection connection) => _days.UnionWith(Partitions(connection).Select(p => p.Day));

    public int Add(IReadOnlyList<AlertDocument> documents, long? sourceEnd, Action<IndexedAlert>? added = null)
    {
        var rows = new List<(AlertFields Fields, string Json)>(documents.Count);
        var sources = new List<AlertEventKey?>(documents.Count);
        foreach (var document in documents)
        {
            var fields = document.Fields ?? AlertFields.ReadUtf8(document.Utf8.Span);
            if (fields is not null)
            {
                rows.Add((fields, Encoding.UTF8.GetString(document.Utf8.Span)));
                sources.Add(document.Event);
            }
        }

        var indexed = new List<IndexedAlert>(added is null ? 0 : rows.Count);
        lock (_gate)
        {
            using var connection = database.Source.OpenConnection();
            EnsurePartitions(connection, rows.Select(r => r.Fields.Timestamp.ToUnixTimeMilliseconds() / MillisecondsPerDay));
            using var transaction = connection.BeginTransaction();
            rows = KeepFirstOfEachEvent(connection, transaction, rows, sources);
            var seqs = new List<long>(rows.Count);
            if (rows.Count > 0)
            {
                using var reserve = Command(connection, "SELECT nextval('alert_seq') FROM generate_series(1, @p0)", [rows.Count]);
                reserve.Transaction = transaction;
                using var reader = reserve.ExecuteReader();
                while (reader.Read())
                {
                    seqs.Add(reader.GetInt64(0));
                }
            }

            using (var copy = connection.BeginBinaryImport(
                "COPY alerts(seq, ts, alert_id, rule_id, level, agent_id, agent_name, description, file, caused_by, groups, manager, json) FROM STDIN (FORMAT BINARY)"))
            {
                for (var i = 0; i < rows.Count; i++)
                {
                    var (fields, json) = rows[i];
                    copy.StartRow();
                    copy.Write(seqs[i], NpgsqlDbType.Bigint);
                    copy.Write(fields.Timestamp.ToUnixTimeMilliseconds(), NpgsqlDbType.Bigint);
                    copy.Write(fields.Id, NpgsqlDbType.Text);
                    copy.Write(fields.RuleId, NpgsqlDbType.Integer);
                    copy.Write(fields.Level, NpgsqlDbType.Integer);
                    copy.Write(fields.AgentId, NpgsqlDbType.Text);
                    copy.Write(fields.AgentName, NpgsqlDbType.Text);
                    copy.Write(fields.Description, NpgsqlDbType.Text);
                    WriteNullable(copy, fields.File);
                    WriteNullable(copy, fields.CausedBy);
                    copy.Write(fields.Groups.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
                    copy.Write(managerName, NpgsqlDbType.Text);
                    copy.Write(json, NpgsqlDbType.Text);
                }

                copy.Complete();
            }

            var newGroups = new List<(int RuleId, string Groups, IReadOnlyList<string> List)>();
            foreach (var (fields, _) in rows)
            {
                var key = (fields.RuleId, string.Join(',', fields.Groups));
                if (!_ruleGroups.Contains(key) && !newGroups.Any(g => g.RuleId == key.RuleId && g.Groups == key.Item2))
                {
                    newGroups.Add((key.RuleId, key.Item2, fields.Groups));
                }

                if (fields.Quarantine is { } change)
                {
                    ApplyQuarantine(connection, transaction, fields, change);
                }
            }

            foreach (var (ruleId, _, list) in newGroups)
            {
                using var groups = Command(connection,
                    "INSERT INTO alert_rule_groups(name, rule_id) SELECT unnest(@p0::text[]), @p1 ON CONFLICT DO NOTHING", [list.ToArray(), ruleId]);
                groups.Transaction = transaction;
                groups.ExecuteNonQuery();
            }

            if (sourceEnd is { } end)
            {
                SaveSourceEnd(connection, transaction, end);
            }

            transaction.Commit();
            foreach (var (ruleId, groups, _) in newGroups)
            {
                _ruleGroups.Add((ruleId, groups));
            }

            if (added is not null)
            {
                for (var i = 0; i < rows.Count; i++)
                {
                    var (fields, json) = rows[i];
                    indexed.Add(new IndexedAlert(seqs[i], fields.Id, fields.Timestamp, fields.AgentId, fields.AgentName, fields.RuleId, fields.Level,
                        fields.Description, fields.File, fields.Groups, json));
                }
            }
        }

        foreach (var alert in indexed)
        {
            added!(alert);
        }

        return rows.Count;
    }

    /// <summary>
    /// The rows to add: those of no agent's event, and those whose (agent, event sequence, rule) this transaction is the
    /// first to claim in <c>alert_events</c>. A claim another manager holds uncommitted waits for its transaction, so two
    /// managers adding the alert of one event at once add it once.
    /// </summary>
    private List<(AlertFields Fields, string Json)> KeepFirstOfEachEvent(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<(AlertFields Fields, string Json)> rows, List<AlertEventKey?> sources)
    {
        var keyed = Enumerable.Range(0, rows.Count).Where(i => sources[i] is not null).ToList();
        if (keyed.Count == 0)
        {
            return rows;
        }

        using var claim = Command(connection, """
            INSERT INTO alert_events(agent_id, event_seq, rule_id, ts, manager)
            SELECT a, s, r, t, @p4 FROM unnest(@p0::text[], @p1::bigint[], @p2::integer[], @p3::bigint[]) AS k(a, s, r, t) ORDER BY a, s, r
            ON CONFLICT DO NOTHING
            RETURNING agent_id, event_seq, rule_id
            """,
            [
                keyed.Select(i => sources[i]!.Value.AgentId).ToArray(),
                keyed.Select(i => checked((long)sources[i]!.Value.Sequence)).ToArray(),
                keyed.Select(i => rows[i].Fields.RuleId).ToArray(),
                keyed.Select(i => rows[i].Fields.Timestamp.ToUnixTimeMilliseconds()).ToArray(),
                managerName,
            ]);
        claim.Transaction = transaction;
        var claimed = new HashSet<(string, long, int)>();
        using (var reader = claim.ExecuteReader())
        {
            while (reader.Read())
            {
                claimed.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt32(2)));
            }
        }

        var kept = new List<(AlertFields Fields, string Json)>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            // A repeat within the batch itself claims once too: the first row takes the claim away.
            if (sources[i] is not { } source || claimed.Remove((source.AgentId, (long)source.Sequence, rows[i].Fields.RuleId)))
            {
                kept.Add(rows[i]);
            }
        }

        return kept;
    }

    private static void WriteNullable(NpgsqlBinaryImporter copy, string? value)
    {
        if (value is null)
        {
            copy.WriteNull();
        }
        else
        {
            copy.Write(value, NpgsqlDbType.Text);
        }
    }

    private static void ApplyQuarantine(NpgsqlConnection connection, NpgsqlTransaction transaction, AlertFields alert, QuarantineChange change)
    {
        var sql = change.State == QuarantineStates.Quarantined
            ? """
                INSERT INTO alert_quarantine(agent_id, qid, agent_name, path, sha256, state, alert_id, rule_id, quarantined_at, updated_at, restored_to)
                VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p8, NULL)
                ON CONFLICT (agent_id, qid) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256, state = excluded.state,
                    alert_id = excluded.alert_id, rule_id = excluded.rule_id, quarantined_at = excluded.quarantined_at,
                    updated_at = excluded.updated_at, restored_to = NULL
                """
            : """
                INSERT INTO alert_quarantine(agent_id, qid, agent_name, path, sha256, state, alert_id, rule_id, quarantined_at, updated_at, restored_to)
                VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p8, @p9)
                ON CONFLICT (agent_id, qid) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at,
                    restored_to = coalesce(excluded.restored_to, alert_quarantine.restored_to)
                """;
        using var command = Command(connection, sql, [
            alert.AgentId, change.QuarantineId, alert.AgentName, change.Path, (object?)change.Sha256 ?? DBNull.Value, change.State,
            (object?)change.AlertId ?? DBNull.Value, (object?)change.RuleId ?? DBNull.Value, alert.Timestamp.ToUnixTimeMilliseconds(),
            (object?)change.RestoredTo ?? DBNull.Value]);
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    public AlertPage Search(AlertQuery query, DateTimeOffset from, DateTimeOffset to, int limit, int offset = 0)
    {
        var where = Where(query, from, to, out var parameters);
        using var connection = database.Source.OpenConnection();
        using var count = Command(connection, $"SELECT count(*) FROM alerts WHERE {where}", parameters);
        var total = (long)count.ExecuteScalar()!;
        using var select = Command(connection, string.Create(CultureInfo.InvariantCulture, $"""
            SELECT {Columns} FROM alerts WHERE {where} ORDER BY ts DESC, seq DESC LIMIT {Math.Clamp(limit, 0, 10_000)} OFFSET {Math.Max(0, offset)}
            """), parameters);
        return new AlertPage(total, ReadAlerts(select));
    }

    public AlertHistogram Histogram(AlertQuery query, DateTimeOffset from, DateTimeOffset to, int buckets)
    {
        buckets = Math.Clamp(buckets, 1, 1000);
        var span = Math.Max(1, (to - from).Ticks);
        var width = Math.Max(1000, (long)Math.Ceiling(span / (double)TimeSpan.TicksPerMillisecond / buckets));
        var start = from.ToUnixTimeMilliseconds();
        var where = Where(query, from, to, out var parameters);
        using var connection = database.Source.OpenConnection();
        using var command = Command(connection, string.Create(CultureInfo.InvariantCulture,
            $"SELECT (ts - {start}) / {width} AS bucket, count(*) FROM alerts WHERE {where} GROUP BY bucket"), parameters);
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

    public IReadOnlyList<TermCount> Top(TopField field, AlertQuery query, DateTimeOffset from, DateTimeOffset to, int size)
    {
        var where = Where(query, from, to, out var parameters);
        var (key, label, extra) = field switch
        {
            TopField.Rule => ("rule_id", "max(description)", ""),
            TopField.Agent => ("agent_id", "max(agent_name)", ""),
            _ => ("file", "file", " AND file IS NOT NULL"),
        };
        using var connection = database.Source.OpenConnection();
        using var command = Command(connection, string.Create(CultureInfo.InvariantCulture, $"""
            SELECT {key}, {label}, count(*) AS n FROM alerts WHERE {where}{extra} GROUP BY {key} ORDER BY n DESC, {key} LIMIT {Math.Clamp(size, 1, 1000)}
            """), parameters);
        using var reader = command.ExecuteReader();
        var terms = new List<TermCount>();
        while (reader.Read())
        {
            terms.Add(new TermCount(Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!, reader.GetString(1), reader.GetInt64(2)));
        }

        return terms;
    }

    public IndexedAlert? Get(string alertId)
    {
        using var connection = database.Source.OpenConnection();
        var dot = alertId.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0 && long.TryParse(alertId.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds < long.MaxValue / 2000)
        {
            using var near = Command(connection, $"SELECT {Columns} FROM alerts WHERE ts >= @p0 AND ts < @p1 AND alert_id = @p2 ORDER BY seq DESC LIMIT 1",
                [(seconds - 1) * 1000, (seconds + 2) * 1000, alertId]);
            if (ReadAlerts(near).FirstOrDefault() is { } found)
            {
                return found;
            }
        }

        using var command = Command(connection, $"SELECT {Columns} FROM alerts WHERE alert_id = @p0 ORDER BY seq DESC LIMIT 1", [alertId]);
        return ReadAlerts(command).FirstOrDefault();
    }

    public IReadOnlyList<IndexedAlert> After(long seq, int limit)
    {
        using var connection = database.Source.OpenConnection();
        using var command = Command(connection, string.Create(CultureInfo.InvariantCulture,
            $"SELECT {Columns} FROM alerts WHERE seq > @p0 ORDER BY seq LIMIT {Math.Clamp(limit, 1, 10_000)}"), [seq]);
        return ReadAlerts(command);
    }

    public DetectionChain Chain(string agentId, string file)
    {
        var steps = new List<ChainStep>();
        using (var connection = database.Source.OpenConnection())
        {
            // One seek per day partition in the (file, agent_id) index.
            using var command = Command(connection, $"SELECT {Columns}, caused_by FROM alerts WHERE file = @p0 AND agent_id = @p1 ORDER BY ts, seq LIMIT 1000", [file, agentId]);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var alert = ReadAlert(reader);
                steps.Add(new ChainStep(AlertIndex.StageOf(alert), alert, reader.IsDBNull(11) ? null : reader.GetString(11)));
            }
        }

        return new DetectionChain(agentId, file, steps, QuarantineWhere("agent_id = @p0 AND path = @p1", [agentId, file]));
    }

    public IReadOnlyList<QuarantineEntry> Quarantine() => QuarantineWhere("TRUE", []);

    public QuarantineEntry? QuarantineRecord(string agentId, long quarantineId) =>
        QuarantineWhere("agent_id = @p0 AND qid = @p1", [agentId, quarantineId]).FirstOrDefault();

    private List<QuarantineEntry> QuarantineWhere(string where, object[] parameters)
    {
        using var connection = database.Source.OpenConnection();
        using var command = Command(connection, $"""
            SELECT agent_id, agent_name, qid, path, sha256, state, alert_id, rule_id, quarantined_at, updated_at, restored_to
            FROM alert_quarantine WHERE {where} ORDER BY quarantined_at DESC, qid DESC LIMIT 10000
            """, parameters);
        using var reader = command.ExecuteReader();
        var entries = new List<QuarantineEntry>();
        while (reader.Read())
        {
            entries.Add(new QuarantineEntry(
                reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
                reader.IsDBNull(10) ? null : reader.GetString(10)));
        }

        return entries;
    }

    public long Count()
    {
        using var connection = database.Source.OpenConnection();
        using var command = Command(connection, "SELECT count(*) FROM alerts", []);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>
    /// Drops the day partitions wholly past the maximum age and deletes the older alerts of the day the cutoff falls in,
    /// then drops the oldest days (never today's) until the alerts fit the size limit. Run by one manager at a time
    /// (the leader of the singleton jobs); returns how many alerts went.
    /// </summary>
    public long ApplyRetention()
    {
        long removed = 0;
        lock (_gate)
        {
            using var connection = database.Source.OpenConnection();
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var cutoff = now - (long)options.MaxAge.TotalMilliseconds;
            var partitions = Partitions(connection);
            foreach (var (day, name) in partitions.Where(p => (p.Day + 1) * MillisecondsPerDay <= cutoff))
            {
                removed += Drop(connection, day, name);
            }

            using (var delete = Command(connection, "DELETE FROM alerts WHERE ts < @p0", [cutoff]))
            {
                removed += delete.ExecuteNonQuery();
            }

            using (var forget = Command(connection, "DELETE FROM alert_events WHERE ts < @p0", [cutoff]))
            {
                forget.ExecuteNonQuery();
            }

            var today = now / MillisecondsPerDay;
            foreach (var (day, name) in Partitions(connection).Where(p => p.Day < today))
            {
                using var size = Command(connection, """
                    SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                    WHERE p.relname = 'alerts' AND p.relnamespace = current_schema()::regnamespace
                    """, []);
                if ((long)size.ExecuteScalar()! <= options.MaxBytes)
                {
                    break;
                }

                removed += Drop(connection, day, name);
            }
        }

        return removed;
    }

    private long Drop(NpgsqlConnection connection, long day, string name)
    {
        using var transaction = connection.BeginTransaction();
        using var count = Command(connection, $"SELECT count(*) FROM {name}", []);
        count.Transaction = transaction;
        var rows = (long)count.ExecuteScalar()!;
        using var drop = Command(connection, $"DROP TABLE IF EXISTS {name}", []);
        drop.Transaction = transaction;
        drop.ExecuteNonQuery();
        using var forget = Command(connection, "DELETE FROM alert_events WHERE ts < @p0", [(day + 1) * MillisecondsPerDay]);
        forget.Transaction = transaction;
        forget.ExecuteNonQuery();
        transaction.Commit();
        _days.Remove(day);
        return rows;
    }

    public void Dispose()
    {
        // The data source belongs to the database the manager opened; nothing of its own to close.
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, IReadOnlyList<object> parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        for (var i = 0; i < parameters.Count; i++)
        {
            command.Parameters.AddWithValue("p" + i.ToString(CultureInfo.InvariantCulture), parameters[i]);
        }

        return command;
    }

    private static List<IndexedAlert> ReadAlerts(NpgsqlCommand command)
    {
        using var reader = command.ExecuteReader();
        var alerts = new List<IndexedAlert>();
        while (reader.Read())
        {
            alerts.Add(ReadAlert(reader));
        }

        return alerts;
    }

    private static IndexedAlert ReadAlert(NpgsqlDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetString(1),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
        reader.GetString(3),
        reader.GetString(4),
        reader.GetInt32(5),
        reader.GetInt32(6),
        reader.GetString(7),
        reader.IsDBNull(8) ? null : reader.GetString(8),
        reader.GetFieldValue<string[]>(9),
        reader.GetString(10));

    private static string Where(AlertQuery query, DateTimeOffset from, DateTimeOffset to, out List<object> parameters)
    {
        parameters = [from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds()];
        var sql = new StringBuilder("ts >= @p0 AND ts < @p1");
        if (query is not AlertQuery.MatchAll)
        {
            sql.Append(" AND (");
            new PostgresQueryCompiler(sql, parameters).Compile(query);
            sql.Append(')');
        }

        return sql.ToString();
    }
}
