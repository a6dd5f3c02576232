using Npgsql;
using Vigil.Core;

namespace Vigil.Storage.Postgres.Tests;

public sealed class PostgresDatabaseTests
{
    [Fact]
    public void ParseUrl_HostPortDatabase_BuildsTheConnection()
    {
        var builder = PostgresDatabase.ParseUrl("postgres://vigil_mgr@db.example:6543/alerts?sslmode=require", "secret");
        Assert.Equal(("vigil_mgr", "db.example", 6543, "alerts", SslMode.Require, "secret"), (builder.Username, builder.Host, builder.Port, builder.Database, builder.SslMode, builder.Password));
    }

    [Fact]
    public void ParseUrl_SocketDirectory_EncodedOrAsParameter()
    {
        Assert.Equal("/run/postgresql", PostgresDatabase.ParseUrl("postgres://vigil@%2Frun%2Fpostgresql/vigil", null).Host);
        Assert.Equal("/run/postgresql", PostgresDatabase.ParseUrl("postgresql://vigil@localhost/vigil?host=/run/postgresql", null).Host);
    }

    [Theory]
    [InlineData("postgres://vigil:hunter2@db/vigil", "holds a password")]
    [InlineData("postgres://vigil@db/vigil?password=hunter2", "holds a password")]
    [InlineData("mysql://vigil@db/vigil", "is not a postgres://")]
    [InlineData("postgres://vigil@db/vigil?sslmode=maybe", "sslmode 'maybe'")]
    [InlineData("postgres://vigil@db/vigil?pool=3", "unknown URL parameter 'pool'")]
    public void ParseUrl_BadUrl_SaysWhatIsWrongWithoutThePassword(string url, string expected)
    {
        var error = Assert.Throws<VigilException>(() => PostgresDatabase.ParseUrl(url, null));
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public void ReadPassword_File_FirstLineWithoutNewline()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "s3cret\n");
            Assert.Equal("s3cret", PostgresDatabase.ReadPassword(new FileInfo(path)));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
