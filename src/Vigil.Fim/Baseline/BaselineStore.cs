using Microsoft.Data.Sqlite;
using Vigil.Core.Configuration;
using Vigil.Core.Events;

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
    private readonly SqliteCommand _upsert;
    private readonly SqliteCommand _enqueue;
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
        _upsert = Prepare(
            $"INSERT OR REPLACE INTO file_entry ({Columns}) VALUES ($path, $size, $perm, $uid, $gid, $user_name, $group_name, $mtime, $inode, $dev, $md5, $sha1, $sha256, $checksum, $options)",
            "$path", "$size", "$perm", "$uid", "$gid", "$user_name", "$group_name", "$mtime", "$inode", "$dev", "$md5", "$sha1", "$sha256", "$checksum", "$options");
        _enqueue = Prepare("INSERT INTO outbox (queue, location, message) VALUES ($queue, $location, $message)", "$queue", "$location", "$message");
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
        _get.Transaction = _upsert.Transaction = _enqueue.Transaction = _transaction;
    }

    public void Commit()
    {
        _transaction?.Commit();
        _transaction?.Dispose();
        _transaction = null;
        _get.Transaction = _upsert.Transaction = _enqueue.Transaction = null;
    }

    public FileEntry? Get(string path)
    {
        _get.Parameters[0].Value = path;
        using var reader = _get.ExecuteReader();
        return reader.Read() ? Read(reader) : null;
    }

    public void Upsert(FileEntry entry, bool isNew)
    {
        var p = _upsert.Parameters;
        p[0].Value = entry.Path;
        p[1].Value = entry.Size;
        p[2].Value = entry.Perm;
        p[3].Value = (long)entry.Uid;
        p[4].Value = (long)entry.Gid;
        p[5].Value = entry.UserName;
        p[6].Value = entry.GroupName;
        p[7].Value = entry.Mtime;
        p[8].Value = unchecked((long)entry.Inode);
        p[9].Value = unchecked((long)entry.Device);
        p[10].Value = (object?)entry.Md5 ?? DBNull.Value;
        p[11].Value = (object?)entry.Sha1 ?? DBNull.Value;
        p[12].Value = (object?)entry.Sha256 ?? DBNull.Value;
        p[13].Value = entry.Checksum;
        p[14].Value = (int)entry.Checks;
        _upsert.ExecuteNonQuery();
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

    /// <summary>Queues a message in the outbox; its sequence (the row's key, which AUTOINCREMENT never reuses).</summary>
    public long Enqueue(EventMessage message)
    {
        _enqueue.Parameters[0].Value = message.Queue.ToString();
        _enqueue.Parameters[1].Value = message.Location;
        _enqueue.Parameters[2].Value = message.Message;
        _enqueue.ExecuteNonQuery();
        return SQLitePCL.raw.sqlite3_last_insert_rowid(_connection.Handle);
    }

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
