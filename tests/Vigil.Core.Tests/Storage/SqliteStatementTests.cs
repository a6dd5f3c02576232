using Microsoft.Data.Sqlite;
using Vigil.Core.Storage;

namespace Vigil.Core.Tests.Storage;

public sealed class SqliteStatementTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"vigil-statement-{Guid.NewGuid():N}.db");
    private readonly SqliteConnection _connection;

    public SqliteStatementTests()
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _path, Pooling = false }.ToString());
        _connection.Open();
        using var create = _connection.CreateCommand();
        create.CommandText = "CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, v TEXT)";
        create.ExecuteNonQuery();
    }

    // Text bound here must be the bytes Microsoft.Data.Sqlite binds, or a row written one way is not found the other:
    // a path with a lone surrogate, a long one (past the stack buffer), ordinary text.
    [Theory]
    [InlineData("/root/plain.txt")]
    [InlineData("/root/caf\u00e9 \u4e2d\u6587 \U0001F600.bin")]
    [InlineData("/root/lone-\ud800-surrogate")]
    [InlineData(null)]
    public void Bind_Text_AsMicrosoftDataSqliteBindsIt(string? name)
    {
        var key = name ?? "null-row";
        var value = name is null ? null : name + new string('x', 3000);
        using (var insert = new SqliteStatement(_connection, "INSERT INTO t (k, n, v) VALUES (?1, ?2, ?3)"))
        {
            insert.Bind(1, key).Bind(2, long.MinValue).Bind(3, value).Execute();
        }

        using var select = _connection.CreateCommand();
        select.CommandText = "SELECT n, v, length(CAST(k AS BLOB)) = length(CAST($k AS BLOB)) FROM t WHERE k = $k";
        select.Parameters.AddWithValue("$k", key);
        using var reader = select.ExecuteReader();
        Assert.True(reader.Read(), "the row written by position is found by Microsoft.Data.Sqlite's binding");
        Assert.Equal(long.MinValue, reader.GetInt64(0));
        if (value is null)
        {
            Assert.True(reader.IsDBNull(1));
        }
        else
        {
            using var again = _connection.CreateCommand();
            again.CommandText = "SELECT count(*) FROM t WHERE v = $v";
            again.Parameters.AddWithValue("$v", value);
            Assert.Equal(1L, again.ExecuteScalar());
        }
    }

    [Fact]
    public void Execute_AFailure_IsASqliteException_AndTheStatementRunsAgain()
    {
        using var insert = new SqliteStatement(_connection, "INSERT INTO t (k, n) VALUES (?1, ?2)");
        insert.Bind(1, "a").Bind(2, 1).Execute();

        var failure = Assert.Throws<SqliteException>(() => insert.Bind(1, "a").Bind(2, 2).Execute());
        Assert.Contains("UNIQUE", failure.Message, StringComparison.Ordinal);
        insert.Bind(1, "b").Bind(2, 3).Execute();

        using var count = _connection.CreateCommand();
        count.CommandText = "SELECT group_concat(k || n, ',') FROM (SELECT k, n FROM t ORDER BY k)";
        Assert.Equal("a1,b3", count.ExecuteScalar());
    }

    [Fact]
    public void Bind_AnIndexTheStatementDoesNotHave_Throws()
    {
        using var insert = new SqliteStatement(_connection, "INSERT INTO t (k, n) VALUES (?1, ?2)");
        Assert.Throws<SqliteException>(() => insert.Bind(3, 1));
        Assert.Throws<SqliteException>(() => insert.Bind(0, "k"));
    }

    [Fact]
    public void Execute_InsideTheConnectionsTransaction_RolledBackWithIt()
    {
        using var insert = new SqliteStatement(_connection, "INSERT INTO t (k) VALUES (?1)");
        using (var transaction = _connection.BeginTransaction())
        {
            insert.Bind(1, "gone").Execute();
            transaction.Rollback();
        }

        using var count = _connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM t";
        Assert.Equal(0L, count.ExecuteScalar());
    }

    public void Dispose()
    {
        _connection.Dispose();
        File.Delete(_path);
    }
}
