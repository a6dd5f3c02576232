using Vigil.Core;

namespace Vigil.Storage.Postgres.Tests;

public sealed class PostgresSchemaTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    [Fact(Timeout = 120_000)]
    public async Task MigrateAsync_EmptyDatabase_CreatesEveryTableAtTheLatestVersion()
    {
        await using var database = await fixture.OpenFreshAsync();
        Assert.Equal(0, await database.MigrateAsync(CancellationToken.None));
        Assert.Equal(PostgresSchema.LatestVersion, await database.MigrateAsync(CancellationToken.None));

        var tables = await fixture.Server.PsqlAsync(database.Source.ConnectionString.Split("Database=")[1].Split(';')[0], "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'");
        Assert.Equal("agent_leases,agent_watermarks,agents,alert_events,alert_quarantine,alert_rule_groups,alert_sources,alerts,ca_material,lookup_claims,manager_commits,routed_responses,verdicts,vigil_schema,vt_quota,vt_requests", tables);
    }

    [Fact(Timeout = 120_000)]
    public async Task MigrateAsync_ManagersStartingTogether_MigrateOnce()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        var databases = Enumerable.Range(0, 3).Select(_ => PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password)).ToList();
        try
        {
            var found = await Task.WhenAll(databases.Select(d => d.MigrateAsync(CancellationToken.None)));
            Assert.Equal(1, found.Count(v => v == 0));
            Assert.Equal(2, found.Count(v => v == PostgresSchema.LatestVersion));
        }
        finally
        {
            foreach (var database in databases)
            {
                await database.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task MigrateAsync_SchemaFromANewerVigil_RefusesNamingBothVersions()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        await using var database = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await database.MigrateAsync(CancellationToken.None);
        await fixture.Server.PsqlAsync(name, $"UPDATE vigil_schema SET version = {PostgresSchema.LatestVersion + 5}");

        var error = await Assert.ThrowsAsync<VigilException>(() => database.MigrateAsync(CancellationToken.None));
        Assert.True(error.IsFatal);
        Assert.Contains($"schema version {PostgresSchema.LatestVersion + 5} was written by a newer Vigil", error.Message);
        Assert.Contains($"knows up to version {PostgresSchema.LatestVersion}", error.Message);
    }

    [Fact(Timeout = 120_000)]
    public async Task MigrateAsync_WrongPassword_SaysWhichDatabase()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        await using var database = PostgresDatabase.Open(fixture.Server.Url(name), "not-the-password");
        var error = await Assert.ThrowsAsync<VigilException>(() => database.MigrateAsync(CancellationToken.None));
        Assert.Contains($"database postgres://vigil@127.0.0.1:{fixture.Server.Port}/{name}", error.Message);
        Assert.Contains("password authentication failed", error.Message);
    }

    [Fact(Timeout = 120_000)]
    public async Task Open_UnixSocketDirectoryAsHost_Connects()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        var url = $"postgres://vigil@{Uri.EscapeDataString(fixture.Server.SocketDirectory)}:{fixture.Server.Port}/{name}";
        await using var database = PostgresDatabase.Open(url, fixture.Server.Password);
        Assert.Equal(0, await database.MigrateAsync(CancellationToken.None));
    }
}
