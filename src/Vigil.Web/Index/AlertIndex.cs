using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Vigil.Web.Index;

/// <summary>How long the index keeps alerts, and how big it may grow. alerts.json is the record; the index is a view.</summary>
internal sealed record AlertIndexOptions
{
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(90);

    /// <summary>Live data size at which the oldest alerts go (by whole days' worth of rows, oldest first).</summary>
    public long MaxBytes { get; init; } = 4L << 30;

    /// <summary>About how much new WAL asks for a checkpoint (on a thread of its own, beside the writer).</summary>
    public long CheckpointBytes { get; init; } = 64L << 20;

    /// <summary>A WAL bigger than this (checkpoints falling behind) is checkpointed by the writer itself before it goes on.</summary>
    public long MaxWalBytes { get; init; } = 1L << 30;
}

/// <summary>
/// Every alert, indexed in SQLite for the API and the dashboard: by time, rule id, level, agent, groups and file.
/// Alerts are added in batches (one transaction each); searches run on their own connections, so they never wait
/// for the writer (WAL). Quarantine records are kept up to date from the quarantine alerts as they are added.
/// </summary>
internal sealed class AlertIndex : IAlertStore
{
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly Lock _gate = new();
    private readonly AlertIndexOptions _options;
    private readonly TimeProvider _time;

    public AlertIndex(string path, AlertIndexOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Cache = SqliteCacheMode.Private }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        _walPath = path + "-wal";
        Execute(_writer, $"""
            PRAGMA page_size=8192;
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            PRAGMA busy_timeout=5000;
            PRAGMA cache_size=-65536;
            PRAGMA wal_autocheckpoint=0;
            PRAGMA journal_size_limit={options.CheckpointBytes};
            PRAGMA temp_store=MEMORY;
            CREATE TABLE IF NOT EXISTS alerts(
                seq INTEGER PRIMARY KEY,
                ts INTEGER NOT NULL,
                alert_id TEXT NOT NULL,
                rule_id INTEGER NOT NULL,
                level INTEGER NOT NULL,
                agent_id TEXT NOT NULL,
                agent_name TEXT NOT NULL,
                description TEXT NOT NULL,
                file TEXT,
                caused_by TEXT,
                groups TEXT NOT NULL,
                json TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS alerts_ts ON alerts(ts);
            CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule_id, ts);
            CREATE INDEX IF NOT EXISTS alerts_level ON alerts(level, ts);
            CREATE INDEX IF NOT EXISTS alerts_agent ON alerts(agent_id, ts);
            DROP INDEX IF EXISTS alerts_file;
            CREATE INDEX IF NOT EXISTS alerts_file_day ON alerts(ts / {MillisecondsPerDay}, file, agent_id) WHERE file IS NOT NULL;
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS rule_groups(name TEXT NOT NULL, rule_id INTEGER NOT NULL, PRIMARY KEY(name, rule_id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS quarantine(
                agent_id TEXT NOT NULL, qid INTEGER NOT NULL, agent_name TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT,
                state TEXT NOT NULL, alert_id TEXT, rule_id TEXT, quarantined_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                restored_to TEXT, PRIMARY KEY(agent_id, qid));
            """);
    }

    public static string PathUnder(string dataDirectory) => Path.Combine(dataDirectory, "index", "alerts.db");

    public string ConnectionString => _connectionString;

    /// <summary>
    /// Where in alerts.json the index has taken every alert up to (the byte offset after the last alert of the last
    /// batch added with one), or null when no batch said.
    /// </summary>
    public long? SourceEnd
    {
        get
        {
            lock (_gate)
            {
                using var command = _writer.CreateCommand();
                command.CommandText = "SELECT value FROM meta WHERE key = 'alerts_json_end'";
                return command.ExecuteScalar() is long end ? end : null;
            }
        }
    }

    /// <summary>Records that the index holds alerts.json's alerts up to <paramref name="end"/> (see <see cref="SourceEnd"/>).</summary>
    public void SetSourceEnd(long end)
    {
        lock (_gate)
        {
            using var transaction = _writer.BeginTransaction();
            SaveSourceEnd(transaction, end);
            transaction.Commit();
        }
    }

    private void SaveSourceEnd(SqliteTransaction transaction, long end)
    {
        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO meta(key, value) VALUES('alerts_json_end', $end) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
        command.Parameters.AddWithValue("$end", end);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Indexes a batch of alerts (each one line of alerts.json) in one transaction; returns them as indexed.
    /// <paramref name="sourceEnd"/>, when given, is where alerts.json ends after them: it is committed with them.
    /// </summary>
    public IReadOnlyList<IndexedAlert> Add(IReadOnlyList<string> alertJsons, long? sourceEnd = null)
    {
        var added = new List<IndexedAlert>(alertJsons.Count);
        Add([.. alertJsons.Select(json => new AlertDocument(Encoding.UTF8.GetBytes(json)))], sourceEnd, added.Add);
        return added;
    }

    /// <summary>
    /// As <see cref="Add(IReadOnlyList{string}, long?)"/>, from the documents' UTF-8 (and their fields when known); returns
    /// how many were indexed. <paramref name="added"/>, when given, gets each alert as indexed (its text decoded for it).
    /// </summary>
    public int Add(IReadOnlyList<AlertDocument> documents, long? sourceEnd, Action<IndexedAlert>? added = null)
    {
        var count = 0;
        var indexed = added is null ? null : new List<IndexedAlert>(documents.Count);
        lock (_gate)
        {
            using var transaction = _writer.BeginTransaction();
            var insert = _insert ??= Prepare(_writer, """
                INSERT INTO alerts(seq, ts, alert_id, rule_id, level, agent_id, agent_name, description, file, caused_by, groups, json)
                VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                """);
            var seq = NextSeq();
            foreach (var document in documents)
            {
                var utf8 = document.Utf8.Span;
                var fields = document.Fields ?? AlertFields.ReadUtf8(utf8);
                if (fields is null)
                {
                    continue; // not an alert document; alerts.json keeps it regardless
                }

                var groupList = string.Join(',', fields.Groups);
                raw.sqlite3_bind_int64(insert, 1, seq);
                raw.sqlite3_bind_int64(insert, 2, fields.Timestamp.ToUnixTimeMilliseconds());
                BindText(insert, 3, fields.Id);
                raw.sqlite3_bind_int64(insert, 4, fields.RuleId);
                raw.sqlite3_bind_int64(insert, 5, fields.Level);
                BindText(insert, 6, fields.AgentId);
                BindText(insert, 7, fields.AgentName);
                BindText(insert, 8, fields.Description);
                BindText(insert, 9, fields.File);
                BindText(insert, 10, fields.CausedBy);
                BindText(insert, 11, "," + groupList + ",");
                raw.sqlite3_bind_text(insert, 12, utf8);
                Step(insert);
                if (_ruleGroups.Add((fields.RuleId, groupList)))
                {
                    NoteRuleGroups(transaction, fields.RuleId, fields.Groups);
                }

                if (fields.Quarantine is { } change)
                {
                    ApplyQuarantine(transaction, fields, change);
                }

                indexed?.Add(new IndexedAlert(seq, fields.Id, fields.Timestamp, fields.AgentId, fields.AgentName, fields.RuleId, fields.Level,
                    fields.Description, fields.File, fields.Groups, Encoding.UTF8.GetString(utf8)));
                count++;
                _uncheckpointedBytes += utf8.Length;
                seq++;
            }

            if (sourceEnd is { } end)
            {
                SaveSourceEnd(transaction, end);
            }

            transaction.Commit();
            KeepWalInCheck();
        }

        foreach (var alert in indexed ?? [])
        {
            added!(alert);
        }

        return count;
    }

    // The insert is prepared once and kept (SQLite re-prepares it itself should the schema change).
    private sqlite3_stmt? _insert;

    private static sqlite3_stmt Prepare(SqliteConnection connection, string sql)
    {
        var rc = raw.sqlite3_prepare_v2(connection.Handle, sql, out var statement);
        SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        return statement;
    }

    private void Step(sqlite3_stmt statement)
    {
        var rc = raw.sqlite3_step(statement);
        if (rc != raw.SQLITE_DONE)
        {
            var message = raw.sqlite3_errmsg(_writer.Handle).utf8_to_string();
            raw.sqlite3_reset(statement);
            throw new SqliteException($"SQLite Error {rc}: '{message}'.", rc);
        }

        raw.sqlite3_reset(statement);
    }

    private static void BindText(sqlite3_stmt statement, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(statement, index);
            return;
        }

        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max <= 1024)
        {
            Span<byte> small = stackalloc byte[1024];
            raw.sqlite3_bind_text(statement, index, (ReadOnlySpan<byte>)small[..Encoding.UTF8.GetBytes(value, small)]);
            return;
        }

        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            raw.sqlite3_bind_text(statement, index, new ReadOnlySpan<byte>(rented, 0, Encoding.UTF8.GetBytes(value, rented)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // Checkpoints (copying the WAL back into the database, then one fsync) run on a thread of their own, so the writer
    // never waits for them: they cost about a quarter of the insert time when the writer ran them itself. A PASSIVE
    // checkpoint never blocks the writer or the readers. Should they fall behind, so the WAL outgrows
    // MaxWalBytes, the writer checkpoints before its next batch and the WAL starts over.
    private readonly string _walPath;
    private readonly SemaphoreSlim _checkpointWanted = new(0, 1);
    private readonly CancellationTokenSource _closing = new();
    private Task? _checkpointer;
    private long _uncheckpointedBytes;

    private void KeepWalInCheck()
    {
        // Each alert's document is about a third of what a batch writes to the WAL (row, five index entries, pages).
        if (_uncheckpointedBytes * 3 < _options.CheckpointBytes)
        {
            return;
        }

        _uncheckpointedBytes = 0;
        if (File.Exists(_walPath) && new FileInfo(_walPath).Length > _options.MaxWalBytes)
        {
            Execute(_writer, "PRAGMA wal_checkpoint(PASSIVE)");
            return;
        }

        _checkpointer ??= Task.Factory.StartNew(CheckpointLoop, TaskCreationOptions.LongRunning);
        if (_checkpointWanted.CurrentCount == 0)
        {
            try
            {
                _checkpointWanted.Release();
            }
            catch (SemaphoreFullException)
            {
                // already signalled
            }
        }
    }

    private void CheckpointLoop()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout=5000;");
        while (true)
        {
            try
            {
                _checkpointWanted.Wait(_closing.Token);
                Execute(connection, "PRAGMA wal_checkpoint(PASSIVE)");
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SqliteException)
            {
                // Busy or interrupted: the next signal tries again, and the writer checkpoints itself if the WAL grows too big.
            }
        }
    }

    // The groups index: groups belong to rules, so the index keeps which rule ids carried which groups (a row per rule
    // and group, written the first time a rule is seen with a group list) and a group search goes through the rule-id
    // index, each candidate then checked against the alert's own groups. No row per alert and group.
    private readonly HashSet<(int RuleId, string Groups)> _ruleGroups = [];

    private void NoteRuleGroups(SqliteTransaction transaction, int ruleId, IReadOnlyList<string> groups)
    {
        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT OR IGNORE INTO rule_groups(name, rule_id) VALUES($name, $rule)";
        var name = command.Parameters.Add("$name", SqliteType.Text);
        command.Parameters.AddWithValue("$rule", ruleId);
        foreach (var group in groups)
        {
            name.Value = group;
            command.ExecuteNonQuery();
        }
    }

    private long NextSeq()
    {
        using var command = _writer.CreateCommand();
        command.CommandText = "SELECT coalesce(max(seq), 0) + 1 FROM alerts";
        return (long)command.ExecuteScalar()!;
    }

    private void ApplyQuarantine(SqliteTransaction transaction, AlertFields alert, QuarantineChange change)
    {
        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        var at = alert.Timestamp.ToUnixTimeMilliseconds();
        if (change.State == QuarantineStates.Quarantined)
        {
            command.CommandText = """
                INSERT INTO quarantine(agent_id, qid, agent_name, path, sha256, state, alert_id, rule_id, quarantined_at, updated_at, restored_to)
                VALUES($agent, $qid, $name, $path, $sha256, $state, $alert_id, $rule_id, $at, $at, NULL)
                ON CONFLICT(agent_id, qid) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256, state = excluded.state,
                    alert_id = excluded.alert_id, rule_id = excluded.rule_id, quarantined_at = excluded.quarantined_at,
                    updated_at = excluded.updated_at, restored_to = NULL
                """;
        }
        else
        {
            command.CommandText = """
                INSERT INTO quarantine(agent_id, qid, agent_name, path, sha256, state, alert_id, rule_id, quarantined_at, updated_at, restored_to)
                VALUES($agent, $qid, $name, $path, $sha256, $state, $alert_id, $rule_id, $at, $at, $restored_to)
                ON CONFLICT(agent_id, qid) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at,
                    restored_to = coalesce(excluded.restored_to, quarantine.restored_to)
                """;
        }

        command.Parameters.AddWithValue("$agent", alert.AgentId);
        command.Parameters.AddWithValue("$qid", change.QuarantineId);
        command.Parameters.AddWithValue("$name", alert.AgentName);
        command.Parameters.AddWithValue("$path", change.Path);
        command.Parameters.AddWithValue("$sha256", (object?)change.Sha256 ?? DBNull.Value);
        command.Parameters.AddWithValue("$state", change.State);
        command.Parameters.AddWithValue("$alert_id", (object?)change.AlertId ?? DBNull.Value);
        command.Parameters.AddWithValue("$rule_id", (object?)change.RuleId ?? DBNull.Value);
        command.Parameters.AddWithValue("$at", at);
        command.Parameters.AddWithValue("$restored_to", (object?)change.RestoredTo ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    /// <summary>One page of the alerts matching <paramref name="query"/> in [from, to), newest first, and the total.</summary>
    public AlertPage Search(AlertQuery query, DateTimeOffset from, DateTimeOffset to, int limit, int offset = 0)
    {
        using var connection = OpenReader();
        var where = Where(query, from, to, out var parameters);
        using var count = Command(connection, $"SELECT count(*) FROM alerts WHERE {where}", parameters);
        var total = (long)count.ExecuteScalar()!;
        using var select = Command(connection, $"""
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
        using var command = Command(connection, $"SELECT (ts - {start}) / {width} AS bucket, count(*) FROM alerts WHERE {where} GROUP BY bucket", parameters);
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
        using var command = Command(connection, $"""
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
            using var near = Command(connection, $"SELECT {Columns} FROM alerts WHERE ts >= $p0 AND ts < $p1 AND alert_id = $p2 ORDER BY seq DESC LIMIT 1",
                [(seconds - 1) * 1000, (seconds + 2) * 1000, alertId]);
            if (ReadAlerts(near).FirstOrDefault() is { } found)
            {
                return found;
            }
        }

        using var command = Command(connection, $"SELECT {Columns} FROM alerts WHERE alert_id = $p0 ORDER BY seq DESC LIMIT 1", [alertId]);
        return ReadAlerts(command).FirstOrDefault();
    }

    /// <summary>Alerts added after <paramref name="seq"/>, oldest first (a live view catching up).</summary>
    public IReadOnlyList<IndexedAlert> After(long seq, int limit)
    {
        using var connection = OpenReader();
        using var command = Command(connection, $"SELECT {Columns} FROM alerts WHERE seq > $p0 ORDER BY seq LIMIT {Math.Clamp(limit, 1, 10_000)}", [seq]);
        return ReadAlerts(command);
    }

    /// <summary>The detection chain of <paramref name="file"/> on <paramref name="agentId"/>: its alerts oldest first and its quarantine records.</summary>
    public DetectionChain Chain(string agentId, string file)
    {
        using var connection = OpenReader();
        using var command = Command(connection, $"""
            WITH RECURSIVE days(day) AS (
                SELECT min(ts) / {MillisecondsPerDay} FROM alerts
                UNION ALL SELECT day + 1 FROM days WHERE day < (SELECT max(ts) / {MillisecondsPerDay} FROM alerts))
            SELECT {Columns}, caused_by FROM alerts
            WHERE ts / {MillisecondsPerDay} IN days AND file = $p0 AND agent_id = $p1 ORDER BY ts, seq LIMIT 1000
            """, [file, agentId]);
        var steps = new List<ChainStep>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var alert = ReadAlert(reader);
                steps.Add(new ChainStep(StageOf(alert), alert, reader.IsDBNull(11) ? null : reader.GetString(11)));
            }
        }

        return new DetectionChain(agentId, file, steps, QuarantineWhere("agent_id = $p0 AND path = $p1", [agentId, file]));
    }

    /// <summary>Every quarantine record the agents reported, newest first.</summary>
    public IReadOnlyList<QuarantineEntry> Quarantine() => QuarantineWhere("1 = 1", []);

    public QuarantineEntry? QuarantineRecord(string agentId, long quarantineId) =>
        QuarantineWhere("agent_id = $p0 AND qid = $p1", [agentId, quarantineId]).FirstOrDefault();

    private List<QuarantineEntry> QuarantineWhere(string where, object[] parameters)
    {
        using var connection = OpenReader();
        using var command = Command(connection, $"""
            SELECT agent_id, agent_name, qid, path, sha256, state, alert_id, rule_id, quarantined_at, updated_at, restored_to
            FROM quarantine WHERE {where} ORDER BY quarantined_at DESC, qid DESC LIMIT 10000
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

    /// <summary>How many alerts the index holds.</summary>
    public long Count()
    {
        using var connection = OpenReader();
        using var command = Command(connection, "SELECT count(*) FROM alerts", []);
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>Deletes alerts older than the maximum age, then the oldest until the live data fits the size limit. Returns how many went.</summary>
    public long ApplyRetention()
    {
        long removed = 0;
        lock (_gate)
        {
            var cutoff = (_time.GetUtcNow() - _options.MaxAge).ToUnixTimeMilliseconds();
            removed += DeleteBefore(cutoff);
            for (var round = 0; round < 100 && LiveBytes() > _options.MaxBytes; round++)
            {
                // The oldest tenth of what is left goes, in one transaction, until the data fits.
                using var command = _writer.CreateCommand();
                command.CommandText = "SELECT ts FROM alerts ORDER BY ts LIMIT 1 OFFSET (SELECT count(*) / 10 FROM alerts)";
                if (command.ExecuteScalar() is not long ts)
                {
                    break;
                }

                removed += DeleteBefore(ts + 1);
            }
        }

        return removed;
    }

    private long DeleteBefore(long cutoff)
    {
        using var transaction = _writer.BeginTransaction();
        using var alerts = _writer.CreateCommand();
        alerts.Transaction = transaction;
        alerts.CommandText = "DELETE FROM alerts WHERE ts < $cutoff";
        alerts.Parameters.AddWithValue("$cutoff", cutoff);
        var removed = alerts.ExecuteNonQuery();
        transaction.Commit();
        return removed;
    }

    private long LiveBytes()
    {
        using var command = _writer.CreateCommand();
        command.CommandText = "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count, pragma_freelist_count, pragma_page_size";
        return (long)command.ExecuteScalar()!;
    }

    public void Dispose()
    {
        if (_closing.IsCancellationRequested)
        {
            return;
        }

        _closing.Cancel();
        _checkpointer?.Wait();
        lock (_gate)
        {
            _insert?.Dispose();
            _writer.Dispose();
        }

        _checkpointWanted.Dispose();
        _closing.Dispose();
    }

    /// <summary>
    /// The stage of an alert in a file's chain. Groups alone do not tell (the seed's 100092 is in group virustotal
    /// only), so the decoder does: active-response log lines are responses, or quarantine records when Vigil's
    /// quarantine wrote them; FIM decoders are FIM; integration results are verdicts.
    /// </summary>
    internal static ChainStage StageOf(IndexedAlert alert)
    {
        string? decoder = null;
        string? program = null;
        string? location = null;
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(alert.Json);
            var root = document.RootElement;
            decoder = root.TryGetProperty("decoder", out var d) && d.TryGetProperty("name", out var n) ? n.GetString() : null;
            location = root.TryGetProperty("location", out var l) ? l.GetString() : null;
            program = root.TryGetProperty("data", out var data) && data.ValueKind == System.Text.Json.JsonValueKind.Object
                && data.TryGetProperty("parameters", out var p) && p.ValueKind == System.Text.Json.JsonValueKind.Object
                && p.TryGetProperty("program", out var prog) && prog.ValueKind == System.Text.Json.JsonValueKind.String
                ? prog.GetString()
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
        }

        if ((alert.Groups.Contains("vigil_quarantine") || program?.EndsWith("vigil-quarantine", StringComparison.Ordinal) == true) && alert.RuleId != Core.Events.VigilRules.RemoveThreatNothingToDo)
        {
            return ChainStage.Quarantine;
        }

        if (decoder == "ar_log_json" || alert.Groups.Contains("active_response"))
        {
            return ChainStage.Response;
        }

        if (decoder?.StartsWith("syscheck", StringComparison.Ordinal) == true || alert.Groups.Contains("syscheck"))
        {
            return ChainStage.Fim;
        }

        if (location == "vigil-prevention" || alert.Groups.Contains("vigil_prevention"))
        {
            // Before the verdicts: a denied access carries data.virustotal.source for the removal, not a verdict.
            return ChainStage.Prevention;
        }

        if (location is "virustotal" or "vigil-intel" or "vigil-engine" || alert.Groups.Contains("virustotal") || alert.Groups.Contains("vigil_intel")
            || alert.Groups.Contains("vigil_engine"))
        {
            return ChainStage.Verdict;
        }

        return ChainStage.Other;
    }

    // The file index leads with the alert's day, so a batch of new alerts touches only today's part of it rather than
    // a page per alert all over the index (25,000 files across 100 agents made every batch rewrite most of its
    // pages). A file's chain is then one index seek per day the index holds.
    private const long MillisecondsPerDay = 86_400_000;

    private const string Columns = "seq, alert_id, ts, agent_id, agent_name, rule_id, level, description, file, groups, json";

    private SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA query_only=1; PRAGMA busy_timeout=5000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, IReadOnlyList<object> parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < parameters.Count; i++)
        {
            command.Parameters.AddWithValue("$p" + i.ToString(CultureInfo.InvariantCulture), parameters[i]);
        }

        return command;
    }

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

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
