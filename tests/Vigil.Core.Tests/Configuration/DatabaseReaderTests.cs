namespace Vigil.Core.Tests.Configuration;

public sealed class DatabaseReaderTests
{
    [Fact]
    public void Load_DatabaseBlock_GivesTheUrlAndThePasswordFiles()
    {
        var result = ConfigTest.LoadBlocks("""
            <database>
              <url>postgres://vigil@db.example:5432/vigil?sslmode=require</url>
              <password_file>/etc/vigil/db.pass</password_file>
              <ca_password_file>etc/ca.pass</ca_password_file>
            </database>
            """);

        Assert.Empty(result.Diagnostics);
        var database = Assert.IsType<Vigil.Core.Configuration.DatabaseOptions>(result.Config.Database);
        Assert.Equal("postgres://vigil@db.example:5432/vigil?sslmode=require", database.Url);
        Assert.Equal("/etc/vigil/db.pass", database.PasswordFile);
        Assert.Equal("etc/ca.pass", database.CaPasswordFile);
        Assert.Equal("ossec.conf:2", database.Source!.ToString());
    }

    [Fact]
    public void Load_NoDatabaseBlock_NoDatabase() => Assert.Null(ConfigTest.LoadBlocks("<global></global>").Config.Database);

    [Fact]
    public void Load_UrlOnly_PasswordsFromTheEnvironment()
    {
        var result = ConfigTest.LoadBlocks("<database><url>postgresql://vigil@%2Frun%2Fpostgresql/vigil</url></database>");

        Assert.Empty(result.Diagnostics);
        Assert.Null(result.Config.Database!.PasswordFile);
        Assert.Null(result.Config.Database.CaPasswordFile);
    }

    [Theory]
    [InlineData("<url>postgres://vigil:hunter2@db/vigil</url>", "ossec.conf:3: error: <url> of <database> holds a password; put it in <password_file> or $VIGIL_DATABASE_PASSWORD instead")]
    [InlineData("<url>mysql://vigil@db/vigil</url>", "ossec.conf:3: error: <url> of <database> must be postgres://USER@HOST:PORT/DATABASE, got 'mysql://vigil@db/vigil'")]
    [InlineData("<url>postgres://vigil@db/vigil?sslmode=require&amp;password=hunter2</url>", "ossec.conf:3: error: <url> of <database> holds a password")]
    [InlineData("<url>postgres://vigil@db/vigil</url><password>hunter2</password>", "ossec.conf:3: error: <password> is not read from ossec.conf (other programs read it too): give <password_file>")]
    [InlineData("<url>postgres://vigil@db/vigil</url><ca_password>x</ca_password>", "ossec.conf:3: error: <ca_password> is not read from ossec.conf (other programs read it too): give <ca_password_file>")]
    [InlineData("<url>postgres://vigil@db/vigil</url><password_file> </password_file>", "ossec.conf:3: error: <password_file> of <database> must not be empty")]
    [InlineData("<url>postgres://vigil@db/vigil</url><pool>5</pool>", "ossec.conf:3: error: <pool> is not a valid option of <database>")]
    [InlineData("<password_file>/etc/db.pass</password_file>", "ossec.conf:2: error: <database> needs a <url>")]
    public void Load_BadDatabaseBlock_IsOneErrorNamingFileAndLine_AndNoDatabase(string inner, string expected)
    {
        var result = ConfigTest.LoadBlocks($"<database>\n{inner}\n</database>");

        Assert.StartsWith(expected, result.SingleError(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", result.SingleError(), StringComparison.Ordinal);
        Assert.Null(result.Config.Database);
    }

    [Fact]
    public void Load_TwoDatabaseBlocks_TheSecondIsAnErrorNamingTheFirst()
    {
        var result = ConfigTest.LoadBlocks("""
            <database><url>postgres://vigil@a/vigil</url></database>
            <database><url>postgres://vigil@b/vigil</url></database>
            """);

        Assert.Equal("ossec.conf:3: error: <database> is already given at ossec.conf:2; a manager has one shared database", result.SingleError());
        Assert.Equal("postgres://vigil@a/vigil", result.Config.Database!.Url);
    }
}
