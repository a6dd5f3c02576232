using System.Buffers;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Vigil.Core.Storage;

/// <summary>
/// A statement run many times on one connection, prepared once and bound by position through SQLite's own API.
/// Microsoft.Data.Sqlite looks each parameter up by its name and boxes its value on every run: for the rows written
/// once per file or alert that was most of the statement's cost. Text is bound as Microsoft.Data.Sqlite binds it
/// (UTF-8, a lone surrogate replaced), so rows written here and there compare equal. Not thread-safe: one user at a
/// time, on the connection's thread, inside whatever transaction the connection has open.
/// </summary>
internal sealed class SqliteStatement : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _statement;

    public SqliteStatement(SqliteConnection connection, string sql)
    {
        _connection = connection;
        var rc = raw.sqlite3_prepare_v2(connection.Handle, sql, out _statement);
        SqliteException.ThrowExceptionForRC(rc, connection.Handle);
    }

    public SqliteStatement Bind(int index, long value) => Bound(raw.sqlite3_bind_int64(_statement, index, value));

    public SqliteStatement Bind(int index, string? value)
    {
        if (value is null)
        {
            return Bound(raw.sqlite3_bind_null(_statement, index));
        }

        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max <= 1024)
        {
            Span<byte> small = stackalloc byte[1024];
            return Bound(raw.sqlite3_bind_text(_statement, index, (ReadOnlySpan<byte>)small[..Encoding.UTF8.GetBytes(value, small)]));
        }

        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            return Bound(raw.sqlite3_bind_text(_statement, index, new ReadOnlySpan<byte>(rented, 0, Encoding.UTF8.GetBytes(value, rented))));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public SqliteStatement Bind(int index, ReadOnlySpan<byte> utf8) => Bound(raw.sqlite3_bind_text(_statement, index, utf8));

    /// <summary>Runs the statement to its end (a write); a failure is a <see cref="SqliteException"/> with SQLite's message.</summary>
    public void Execute()
    {
        var rc = raw.sqlite3_step(_statement);
        if (rc != raw.SQLITE_DONE)
        {
            var message = raw.sqlite3_errmsg(_connection.Handle).utf8_to_string();
            raw.sqlite3_reset(_statement);
            throw new SqliteException($"SQLite Error {rc}: '{message}'.", rc);
        }

        raw.sqlite3_reset(_statement);
    }

    public void Dispose() => _statement.Dispose();

    // A parameter index the statement does not have (a mistake in its SQL or its caller) fails here, not as a null.
    private SqliteStatement Bound(int rc)
    {
        SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        return this;
    }
}
