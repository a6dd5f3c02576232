using Npgsql;
using Vigil.Core;

namespace Vigil.Storage.Postgres;

/// <summary>
/// The shared schema, created and migrated by the first manager that starts (under an advisory lock, so managers
/// starting together migrate once). <c>vigil_schema</c> holds the version; a database migrated by a newer Vigil
/// than this one is refused with a clear error instead of being written with assumptions that no longer hold.
/// Each migration is append-only: a released one is never edited. docs/multi-manager.md describes the tables.
/// </summary>
internal static class PostgresSchema
{
    // An arbitrary constant: the advisory lock key that serialises migrations ("vigil" in ASCII, padded).
    private const long MigrationLock = 0x76_69_67_69_6C_00_00_01;

    /// <summary>The migrations, in order; index + 1 is the version each one brings the schema to.</summary>
    public static IReadOnlyList<string> Migrations { get; } =
    [
        // 1: agent registry, enrollment ids, replay watermarks, CA material, VirusTotal quota, verdict cache and
        //    lookups in flight.
        """
        CREATE SEQUENCE agent_ids START 1;
        CREATE TABLE agents(
            id text PRIMARY KEY,
            name text NOT NULL,
            address text,
            version text,
            status text NOT NULL,
            last_keepalive timestamptz,
            thumbprint text NOT NULL,
            enrolled_at timestamptz NOT NULL DEFAULT now(),
            enrolled_by text);
        -- An active (not removed) agent's name is unique; a removed agent's row stays, so its id is never reused
        -- and its certificate is refused by every manager.
        CREATE UNIQUE INDEX agents_active_name ON agents(name) WHERE status <> 'removed';
        CREATE TABLE agent_watermarks(
            agent_id text PRIMARY KEY,
            sequence bigint NOT NULL,
            manager text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE ca_material(
            id integer PRIMARY KEY CHECK (id = 1),
            certificate_pem text NOT NULL,
            encrypted_key bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            created_by text NOT NULL);
        CREATE TABLE vt_quota(
            key_id text NOT NULL,
            window_kind text NOT NULL CHECK (window_kind IN ('minute', 'day')),
            window_start timestamptz NOT NULL,
            used integer NOT NULL,
            PRIMARY KEY (key_id, window_kind, window_start));
        CREATE TABLE vt_requests(
            key_id text NOT NULL,
            sent_at timestamptz NOT NULL,
            manager text NOT NULL);
        CREATE INDEX vt_requests_key_time ON vt_requests(key_id, sent_at);
        CREATE TABLE verdicts(
            lookup_hash text PRIMARY KEY,
            sha256 text,
            md5 text,
            expires_at timestamptz NOT NULL,
            body text NOT NULL,
            manager text NOT NULL);
        CREATE INDEX verdicts_sha256 ON verdicts(sha256);
        CREATE INDEX verdicts_md5 ON verdicts(md5);
        CREATE TABLE lookup_claims(
            lookup_hash text PRIMARY KEY,
            manager text NOT NULL,
            expires_at timestamptz NOT NULL);
        """,

        // 2: each manager's last analysis commit, written before its own (SQLite) commit, so a manager killed between
        //    the two finishes the local one at its next start instead of cutting alerts the others count as done.
        """
        CREATE TABLE manager_commits(
            manager text PRIMARY KEY,
            json_end bigint NOT NULL,
            log_end bigint NOT NULL,
            payload text NOT NULL,
            committed_at timestamptz NOT NULL DEFAULT now());
        """,

        // 3: the alert store every manager writes and every dashboard reads: alerts partitioned by day (unix
        //    milliseconds, one partition per UTC day, created ahead by the managers), the rules' groups (a group
        //    search goes through the rule-id index), the quarantine records built from the alerts, and where each
        //    manager's alerts.json is taken up to.
        """
        CREATE SEQUENCE alert_seq START 1;
        CREATE TABLE alerts(
            seq bigint NOT NULL,
            ts bigint NOT NULL,
            alert_id text NOT NULL,
            rule_id integer NOT NULL,
            level integer NOT NULL,
            agent_id text NOT NULL,
            agent_name text NOT NULL,
            description text NOT NULL,
            file text,
            caused_by text,
            groups text[] NOT NULL,
            manager text NOT NULL,
            json text NOT NULL
        ) PARTITION BY RANGE (ts);
        CREATE INDEX alerts_ts ON alerts(ts);
        CREATE INDEX alerts_seq ON alerts(seq);
        CREATE INDEX alerts_rule ON alerts(rule_id, ts);
        CREATE INDEX alerts_level ON alerts(level, ts);
        CREATE INDEX alerts_agent ON alerts(agent_id, ts);
        CREATE INDEX alerts_file ON alerts(file, agent_id) WHERE file IS NOT NULL;
        CREATE TABLE alert_rule_groups(
            name text NOT NULL,
            rule_id integer NOT NULL,
            PRIMARY KEY (name, rule_id));
        CREATE TABLE alert_quarantine(
            agent_id text NOT NULL,
            qid bigint NOT NULL,
            agent_name text NOT NULL,
            path text NOT NULL,
            sha256 text,
            state text NOT NULL,
            alert_id text,
            rule_id text,
            quarantined_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            restored_to text,
            PRIMARY KEY (agent_id, qid));
        CREATE TABLE alert_sources(
            manager text PRIMARY KEY,
            json_end bigint NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now());
        """,

        // 4: active-response routing: the lease each agent holds on the manager it is connected to (renewed while it
        //    is connected, released when it goes), and the responses waiting for an agent connected to another manager
        //    (or to none), keyed by the manager that decided them and its outbox id, as the agent dedupes them.
        """
        CREATE TABLE agent_leases(
            agent_id text PRIMARY KEY,
            manager text NOT NULL,
            expires_at timestamptz NOT NULL,
            taken_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE routed_responses(
            origin text NOT NULL,
            id bigint NOT NULL,
            agent_id text NOT NULL,
            name text NOT NULL,
            json text NOT NULL,
            deadline timestamptz,
            routed_at timestamptz NOT NULL DEFAULT now(),
            sent_by text,
            sent_at timestamptz,
            PRIMARY KEY (origin, id));
        CREATE INDEX routed_responses_agent ON routed_responses(agent_id);
        """,

        // 5: the events the alert store holds an alert of, one row per agent, event sequence and rule: a manager adds an
        //    alert of an agent's event only if its row is new, so an event analysed on two managers (an agent that left
        //    one still running) gives one alert in the store. ts is the alert's, for retention.
        """
        CREATE TABLE alert_events(
            agent_id text NOT NULL,
            event_seq bigint NOT NULL,
            rule_id integer NOT NULL,
            ts bigint NOT NULL,
            manager text NOT NULL,
            PRIMARY KEY (agent_id, event_seq, rule_id));
        CREATE INDEX alert_events_ts ON alert_events(ts);
        """,
    ];

    public static int LatestVersion => Migrations.Count;

    /// <summary>Brings the schema to <see cref="LatestVersion"/>; returns the version it found.</summary>
    public static async Task<int> MigrateAsync(NpgsqlDataSource source, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLock})", cancellationToken);
        await ExecuteAsync(connection, transaction, """
            CREATE TABLE IF NOT EXISTS vigil_schema(
                id integer PRIMARY KEY CHECK (id = 1),
                version integer NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                updated_by text NOT NULL)
            """, cancellationToken);
        int found;
        await using (var read = new NpgsqlCommand("SELECT version FROM vigil_schema WHERE id = 1", connection, transaction))
        {
            found = await read.ExecuteScalarAsync(cancellationToken) is int version ? version : 0;
        }

        if (found > LatestVersion)
        {
            throw new VigilException(
                $"database {connection.Database}: schema version {found} was written by a newer Vigil; this one ({VigilVersion.Current}) knows up to version {LatestVersion}. Upgrade Vigil on this manager",
                isFatal: true);
        }

        for (var version = found + 1; version <= LatestVersion; version++)
        {
            await ExecuteAsync(connection, transaction, Migrations[version - 1], cancellationToken);
        }

        if (found < LatestVersion)
        {
            await using var write = new NpgsqlCommand(
                "INSERT INTO vigil_schema(id, version, updated_by) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET version = excluded.version, updated_at = now(), updated_by = excluded.updated_by",
                connection,
                transaction);
            write.Parameters.AddWithValue(LatestVersion);
            write.Parameters.AddWithValue($"vigil {VigilVersion.Current}");
            await write.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return found;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
