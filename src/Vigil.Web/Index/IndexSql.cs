using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Vigil.Web.Index;

/// <summary>What the index's writer, search and quarantine projection share: read-only connections and commands.</summary>
internal static class IndexSql
{
    /// <summary>A read-only connection of its own (WAL: it never waits for the writer).</summary>
    public static SqliteConnection OpenReader(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA query_only=1; PRAGMA busy_timeout=5000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>A command whose parameters are <c>$p0</c>, <c>$p1</c>, … in order.</summary>
    public static SqliteCommand Command(SqliteConnection connection, string sql, IReadOnlyList<object> parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < parameters.Count; i++)
        {
            command.Parameters.AddWithValue("$p" + i.ToString(CultureInfo.InvariantCulture), parameters[i]);
        }

        return command;
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
