using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>The shared database given by ossec.conf's &lt;database&gt; block instead of --database.</summary>
public sealed class DatabaseConfigTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Manager_DatabaseBlockInOssecConf_SharesThatDatabase_WithNoSecretOnItsCommandLine()
    {
        using var fixture = new TransportFixture();
        var name = await postgres.Server.CreateDatabaseAsync();
        var caPassword = Path.Combine(fixture.ManagerHome, "config", "ca.pass");
        await File.WriteAllTextAsync(caPassword, "ca-secret-for-tests\n");
        var config = Path.Combine(fixture.ManagerHome, "config", "ossec.conf");
        var text = await File.ReadAllTextAsync(config);
        var block = $"""
            <ossec_config>
              <database>
                <url>{postgres.Server.Url(name)}</url>
                <password_file>{postgres.Server.PasswordFile}</password_file>
                <ca_password_file>config/ca.pass</ca_password_file>
              </database>
            </ossec_config>

            """;
        await File.WriteAllTextAsync(config, block + text);

        await using var manager = fixture.StartManager();
        await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
        Assert.Contains($"vigil: shared database from <database> at {config}:2", manager.Output, StringComparison.Ordinal);
        Assert.Contains($"vigil: shared database postgres://vigil@127.0.0.1:{postgres.Server.Port}/{name} (schema version ", manager.Output, StringComparison.Ordinal);
        Assert.Equal("1", await postgres.Server.PsqlAsync(name, "SELECT count(*) FROM ca_material"));
        var argv = await File.ReadAllTextAsync($"/proc/{manager.Id}/cmdline");
        Assert.DoesNotContain(postgres.Server.Password, argv, StringComparison.Ordinal);
        Assert.DoesNotContain("ca-secret-for-tests", argv, StringComparison.Ordinal);

        // `vigil agents` reads the same block: the agent enrolled here is in the shared registry, not a local one.
        await fixture.EnrollAsync("db-agent-01");
        var list = await TransportFixture.RunToEndAsync(["agents", "list", "--json", "--home", fixture.ManagerHome, "--data-dir", Path.Combine(fixture.ManagerHome, "elsewhere")]);
        Assert.Contains("\"db-agent-01\"", list, StringComparison.Ordinal);
        Assert.Contains($"vigil: shared database from <database> at {config}:2", list, StringComparison.Ordinal);
        Assert.Equal("1", await postgres.Server.PsqlAsync(name, "SELECT count(*) FROM agents WHERE name = 'db-agent-01'"));
        Assert.Equal(0, await manager.InterruptAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task ConfigCheck_BadDatabaseBlock_NamesFileAndLine()
    {
        using var temp = new TempDirectory("vigil-database-config");
        var home = TestInstall.WriteShippedHome(temp, "home");
        var config = temp.WriteFile("manager.conf", """
            <ossec_config>
              <database>
                <url>postgres://vigil:hunter2@db.example/vigil</url>
                <password>hunter2</password>
              </database>
            </ossec_config>
            """);
        await using var check = VigilProcess.Start(["config", "check", "--config", config], new Dictionary<string, string> { ["VIGIL_HOME"] = home, ["VIGIL_DATA"] = temp.Combine("data") });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!check.HasExited)
        {
            Assert.True(clock.Elapsed < s_flow, check.Output);
            await Task.Delay(50);
        }

        await Task.Delay(100);
        Assert.True(check.ExitCode == 1, check.Output);
        Assert.Contains($"{config}:3: error: <url> of <database> holds a password", check.Output, StringComparison.Ordinal);
        Assert.Contains($"{config}:4: error: <password> is not read from ossec.conf", check.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", check.Output, StringComparison.Ordinal);
    }
}
