using System.Text;
using Microsoft.Data.Sqlite;
using Vigil.Core.Storage;

namespace Vigil.Web.Index;

/// <summary>
/// The index's one writer: adds alerts in batches (one transaction each, with the quarantine records they change and
/// where alerts.json is taken up to), keeps the WAL in check, and applies retention.
/// </summary>
internal sealed class AlertIndexWriter : IDisposable
{
    private readonly SqliteConnection _writer;
    private readonly Lock _gate = new();
    private readonly AlertIndexOptions _options;
    private readonly TimeProvider _time;

    public AlertIndexWriter(string path, AlertIndexOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        ConnectionString = new SqliteConnectionStringBuilder { DataSource = path, Cache = SqliteCacheMode.Private }.ToString();
        _writer = new SqliteConnection(ConnectionString);
        _writer.Open();
        _walPath = path + "-wal";
        AlertIndexSchema.Apply(_writer, options);
    }

    public string ConnectionString { get; }

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
    /// Indexes a batch of alerts from the documents' UTF-8 (and their fields when known) in one transaction; returns how
    /// many were indexed. <paramref name="sourceEnd"/>, when given, is where alerts.json ends after them: it is committed
    /// with them. <paramref name="added"/>, when given, gets each alert as indexed (its text decoded for it).
    /// </summary>
    public int Add(IReadOnlyList<AlertDocument> documents, long? sourceEnd, Action<IndexedAlert>? added = null)
    {
        var count = 0;
        var indexed = added is null ? null : new List<IndexedAlert>(documents.Count);
        lock (_gate)
        {
            using var transaction = _writer.BeginTransaction();
            var insert = _insert ??= new SqliteStatement(_writer, """
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
                insert.Bind(1, seq).Bind(2, fields.Timestamp.ToUnixTimeMilliseconds()).Bind(3, fields.Id).Bind(4, fields.RuleId).Bind(5, fields.Level)
                    .Bind(6, fields.AgentId).Bind(7, fields.AgentName).Bind(8, fields.Description).Bind(9, fields.File).Bind(10, fields.CausedBy)
                    .Bind(11, "," + groupList + ",").Bind(12, utf8)
                    .Execute();
                if (_ruleGroups.Add((fields.RuleId, groupList)))
                {
                    NoteRuleGroups(transaction, fields.RuleId, fields.Groups);
                }

                if (fields.Quarantine is { } change)
                {
                    QuarantineProjection.Apply(_writer, transaction, fields, change);
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
    private SqliteStatement? _insert;

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
            IndexSql.Execute(_writer, "PRAGMA wal_checkpoint(PASSIVE)");
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
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        IndexSql.Execute(connection, "PRAGMA busy_timeout=5000;");
        while (true)
        {
            try
            {
                _checkpointWanted.Wait(_closing.Token);
                IndexSql.Execute(connection, "PRAGMA wal_checkpoint(PASSIVE)");
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
}
