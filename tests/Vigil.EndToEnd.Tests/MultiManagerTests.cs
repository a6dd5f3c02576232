using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>`vigil manager --database postgres://…`: managers sharing one real PostgreSQL.</summary>
public sealed class MultiManagerTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Manager_Database_CreatesTheSchemaThenFindsIt()
    {
        using var fixture = new TransportFixture();
        var name = await postgres.Server.CreateDatabaseAsync();
        string[] database = ["--database", postgres.Server.Url(name), "--database-password-file", postgres.Server.PasswordFile];
        await using (var manager = fixture.StartManager(null, database))
        {
            await manager.WaitForOutputAsync("vigil: manager ready", s_flow);
            Assert.Contains($"vigil: shared database postgres://vigil@127.0.0.1:{postgres.Server.Port}/{name} (schema version 1 created)", manager.Output, StringComparison.Ordinal);
            Assert.Equal(0, await manager.InterruptAsync(TimeSpan.FromSeconds(30)));
        }

        await using (var again = fixture.StartManager(null, database))
        {
            await again.WaitForOutputAsync("vigil: manager ready", s_flow);
            Assert.Contains("(schema version 1)", again.Output, StringComparison.Ordinal);
            Assert.Equal(0, await again.InterruptAsync(TimeSpan.FromSeconds(30)));
        }
    }

    [Fact]
    public async Task Manager_DatabaseOfANewerVigilOrPasswordInUrl_RefusesToStart()
    {
        using var fixture = new TransportFixture();
        var name = await postgres.Server.CreateDatabaseAsync();
        await postgres.Server.PsqlAsync(name, "CREATE TABLE vigil_schema(id integer PRIMARY KEY, version integer NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), updated_by text NOT NULL); INSERT INTO vigil_schema VALUES (1, 99, now(), 'vigil 9.0')");
        await using (var manager = fixture.StartManager(null, "--database", postgres.Server.Url(name), "--database-password-file", postgres.Server.PasswordFile))
        {
            await WaitForExitAsync(manager);
            Assert.Equal(3, manager.ExitCode);
            Assert.Contains("schema version 99 was written by a newer Vigil", manager.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("manager ready", manager.Output, StringComparison.Ordinal);
        }

        await using (var manager = fixture.StartManager(null, "--database", $"postgres://vigil:{postgres.Server.Password}@127.0.0.1:{postgres.Server.Port}/{name}"))
        {
            await WaitForExitAsync(manager);
            Assert.Equal(3, manager.ExitCode);
            Assert.Contains("the URL holds a password", manager.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(postgres.Server.Password, manager.Output, StringComparison.Ordinal);
        }
    }

    private static async Task WaitForExitAsync(VigilProcess process)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!process.HasExited)
        {
            Assert.True(clock.Elapsed < s_flow, $"still running:\n{process.Output}");
            await Task.Delay(50);
        }
    }
}
