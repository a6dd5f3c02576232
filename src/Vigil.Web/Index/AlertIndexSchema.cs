using Microsoft.Data.Sqlite;

namespace Vigil.Web.Index;

/// <summary>The SQLite alert index's tables and connection settings, created or brought up to date when it opens.</summary>
internal static class AlertIndexSchema
{
    // The file index leads with the alert's day, so a batch of new alerts touches only today's part of it rather than
    // a page per alert all over the index (25,000 files across 100 agents made every batch rewrite most of its
    // pages). A file's chain is then one index seek per day the index holds.
    public const long MillisecondsPerDay = 86_400_000;

    /// <summary>Sets the writer connection's pragmas and creates what is missing.</summary>
    public static void Apply(SqliteConnection writer, AlertIndexOptions options) => IndexSql.Execute(writer, $"""
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
