using Microsoft.Data.Sqlite;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Core.Storage;

namespace Vigil.Fim.Baseline;

/// <summary>
/// The persistent baseline (<c>fim.db</c>): one row per recorded file, which configured directories have had their first
/// (silent) scan, and an outbox of messages not yet handed to the sink. Unlike Wazuh's volatile DB it is kept across
/// restarts, so the first scan after a start reports what changed while the agent was stopped. One writer connection
/// (used by a single thread) and one outbox connection; WAL, private cache. Its <c>epoch</c> (meta), drawn when the
/// file is made, names the outbox's stream: a new fim.db starts its sequence again, under another name.
/// </summary>
internal sealed class BaselineStore : IDisposable
{
    private const string Columns = "path, size, perm, uid, gid, user_name, group_name, mtime, inode, dev, hash_md5, hash_sha1, hash_sha256, checksum, options";

    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _get;
    private readonly SqliteStatement _upsert;
    private readonly SqliteStatement _enqueue;
    private SqliteTransaction? _transaction;

    public BaselineStore(string databasePath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        ConnectionString = new SqliteConnectionStringBuilder { DataSource = databasePath, Cache = SqliteCacheMode.Private, DefaultTimeout = 30 }.ToString();
        _connection = Open(ConnectionString);
        Execute("""
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS file_entry (
                path TEXT NOT NULL PRIMARY KEY, type TEXT NOT NULL DEFAULT 'file', size INTEGER, perm TEXT, uid INTEGER, gid INTEGER,
                user_name TEXT, group_name TEXT, mtime INTEGER, inode INTEGER, dev INTEGER,
                hash_md5 TEXT, hash_sha1 TEXT, hash_sha256 TEXT, checksum TEXT NOT NULL, options INTEGER NOT NULL) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS file_entry_inode ON file_entry (dev, inode);
            CREATE TABLE IF NOT EXISTS baselined_directory (path TEXT NOT NULL PRIMARY KEY) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, location TEXT NOT NULL, message TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', lower(hex(randomblob(16))));
            """);
        _get = Prepare($"SELECT {Columns} FROM file_entry WHERE path = $path", "$path");
        // The two statements of every file event, bound by position (SqliteStatement).
        _upsert = new SqliteStatement(_connection, $"INSERT OR REPLACE INTO file_entry ({Columns}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
        _enqueue = new SqliteStatement(_connection, "INSERT INTO outbox (queue, location, message) VALUES (?1, ?2, ?3)");
        Count = Convert.ToInt32(Scalar("SELECT COUNT(*) FROM file_entry"), System.Globalization.CultureInfo.InvariantCulture);
    }

    public string ConnectionString { get; }

    /// <summary>The number of rows in file_entry.</summary>
    public int Count { get; private set; }

    public static SqliteConnection Open(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    public void Begin()
    {
        _transaction ??= _connection.BeginTransaction();
        _get.Transaction = _transaction;
    }

    public void Commit()
    {
        _transaction?.Commit();
        _transaction?.Dispose();
        _transaction = null;
        _get.Transaction = null;
    }

    public FileEntry? Get(string path)
    {
        _get.Parameters[0].Value = path;
        using var reader = _get.ExecuteReader();
        return reader.Read() ? Read(reader) : null;
    }

    public void Upsert(FileEntry entry, bool isNew)
    {
        _upsert.Bind(1, entry.Path).Bind(2, entry.Size).Bind(3, entry.Perm).Bind(4, entry.Uid).Bind(5, entry.Gid)
            .Bind(6, entry.UserName).Bind(7, entry.GroupName).Bind(8, entry.Mtime)
            .Bind(9, unchecked((long)entry.Inode)).Bind(10, unchecked((long)entry.Device))
            .Bind(11, entry.Md5).Bind(12, entry.Sha1).Bind(13, entry.Sha256).Bind(14, entry.Checksum).Bind(15, (int)entry.Checks)
            .Execute();
        if (isNew)
        {
            Count++;
        }
    }

    /// <summary>Rows for the path itself and everything below it (a deleted file or a deleted or moved directory).</summary>
    public List<FileEntry> EntriesAt(string path)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = $"SELECT {Columns} FROM file_entry WHERE path = $path OR (path > $lo AND path < $hi)";
        var (lo, hi) = Range(path);
        command.Parameters.AddWithValue("$path", path);
        command.Parameters.AddWithValue("$lo", lo);
        command.Parameters.AddWithValue("$hi", hi);
        using var reader = command.ExecuteReader();
        var entries = new List<FileEntry>();
        while (reader.Read())
        {
            entries.Add(Read(reader));
        }

        return entries;
    }

    /// <summary>Paths recorded below a directory, for the end-of-scan deletion check.</summary>
    public List<string> PathsUnder(string directory)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = "SELECT path FROM file_entry WHERE path > $lo AND path < $hi";
        var (lo, hi) = Range(directory);
        command.Parameters.AddWithValue("$lo", lo);
        command.Parameters.AddWithValue("$hi", hi);
        using var reader = command.ExecuteReader();
        var paths = new List<string>();
        while (reader.Read())
        {
            paths.Add(reader.GetString(0));
        }

        return paths;
    }

    public void Remove(string path)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = "DELETE FROM file_entry WHERE path = $path";
        command.Parameters.AddWithValue("$path", path);
        Count -= command.ExecuteNonQuery();
    }

    public HashSet<string> BaselinedDirectories()
    {
        using var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = "SELECT path FROM baselined_directory";
        using var reader = command.ExecuteReader();
        var paths = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            paths.Add(reader.GetString(0));
        }

        return paths;
    }

    public void MarkBaselined(string directory)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = "INSERT OR IGNORE INTO baselined_directory (path) VALUES ($path)";
        command.Parameters.AddWithValue("$path", directory);
        command.ExecuteNonQuery();
    }

    public void Enqueue(EventMessage message) =>
        _enqueue.Bind(1, message.Queue.ToString()).Bind(2, message.Location).Bind(3, message.Message).Execute();

    public void Dispose()
    {
        Commit();
        _get.Dispose();
        _upsert.Dispose();
        _enqueue.Dispose();
        _connection.Dispose();
    }

    /// <summary>Bounds for "strictly below <paramref name="directory"/>": '0' is the character after '/'.</summary>
    private static (string Lo, string Hi) Range(string directory) =>
        directory == "/" ? ("/", "0") : (directory + "/", directory + "0");

    private static FileEntry Read(SqliteDataReader r) => new(
        r.GetString(0), r.GetInt64(1), r.GetString(2), (uint)r.GetInt64(3), (uint)r.GetInt64(4), r.GetString(5), r.GetString(6),
        r.GetInt64(7), unchecked((ulong)r.GetInt64(8)), unchecked((ulong)r.GetInt64(9)),
        r.IsDBNull(10) ? null : r.GetString(10), r.IsDBNull(11) ? null : r.GetString(11), r.IsDBNull(12) ? null : r.GetString(12),
        (FimChecks)r.GetInt32(14));

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter(name, null));
        }

        command.Prepare();
        return command;
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private object? Scalar(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
