using Microsoft.Data.Sqlite;
using Vigil.Core.Baseline;

namespace Vigil.Fim.Baseline;

/// <summary>
/// The baseline's regular files for readers outside FIM (a retro-scan), through a connection of their own on
/// <c>fim.db</c>, opened per call so the reader never holds the database across FIM's writes; a database not yet
/// created reads as empty.
/// </summary>
internal sealed class BaselineCatalog(string databasePath, Func<bool> isReady) : IBaselineCatalog
{
    public bool IsReady => isReady();

    public int Count()
    {
        using var connection = TryOpen();
        if (connection is null)
        {
            return 0;
        }

        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM file_entry WHERE type = 'file' AND size > 0";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public IReadOnlyList<BaselineFile> NewestFirst(BaselineFile? after, int limit)
    {
        using var connection = TryOpen();
        if (connection is null)
        {
            return [];
        }

        using var command = connection.CreateCommand();
        command.CommandText = after is null
            ? "SELECT path, mtime FROM file_entry WHERE type = 'file' AND size > 0 ORDER BY mtime DESC, path LIMIT $limit"
            : """
              SELECT path, mtime FROM file_entry WHERE type = 'file' AND size > 0 AND (mtime < $mtime OR (mtime = $mtime AND path > $path))
              ORDER BY mtime DESC, path LIMIT $limit
              """;
        command.Parameters.AddWithValue("$limit", limit);
        if (after is { } cursor)
        {
            command.Parameters.AddWithValue("$mtime", cursor.Mtime);
            command.Parameters.AddWithValue("$path", cursor.Path);
        }

        using var reader = command.ExecuteReader();
        var files = new List<BaselineFile>();
        while (reader.Read())
        {
            files.Add(new BaselineFile(reader.GetString(0), reader.IsDBNull(1) ? 0 : reader.GetInt64(1)));
        }

        return files;
    }

    private SqliteConnection? TryOpen()
    {
        if (!File.Exists(databasePath))
        {
            return null;
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        return connection;
    }
}
