using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Vigil.Core;
using Vigil.Transport.Registry;

namespace Vigil.Storage.Postgres.Tests;

public sealed class PostgresAgentDirectoryTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    [Fact(Timeout = 120_000)]
    public async Task TryAdd_TwoManagersAtOnce_DistinctIdsAndOneNameOnce()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        await using var first = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await using var second = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await first.MigrateAsync(CancellationToken.None);
        var a = new PostgresAgentDirectory(first, "a", NullLogger.Instance);
        var b = new PostgresAgentDirectory(second, "b", NullLogger.Instance);

        var ids = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).TryAdd($"web-{i:00}", "10.0.0.1", "0.1.0", id => $"thumb-{id}"))));
        Assert.Equal(20, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches("^[0-9]{3}$", id));
        var again = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).TryAdd("db-01", null, null, id => $"thumb-{id}"))));
        Assert.Single(again, id => id is not null);
        Assert.Equal(21, b.List().Count);
        Assert.Equal("thumb-" + ids[3], a.Find(ids[3]!)!.Thumbprint);
    }

    [Fact(Timeout = 120_000)]
    public async Task Remove_OnOneManager_SeenRemovedByTheOtherAndTheNameIsFreeWithANewId()
    {
        var name = await fixture.Server.CreateDatabaseAsync();
        await using var first = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await using var second = PostgresDatabase.Open(fixture.Server.Url(name), fixture.Server.Password);
        await first.MigrateAsync(CancellationToken.None);
        var a = new PostgresAgentDirectory(first, "a", NullLogger.Instance);
        var b = new PostgresAgentDirectory(second, "b", NullLogger.Instance);
        var id = a.TryAdd("web-01", null, null, _ => "t1")!;
        b.Touch(id, AgentStatus.Active, "10.0.0.7", "0.1.0", new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.FromHours(1)));
        Assert.Equal(("10.0.0.7", AgentStatus.Active, new DateTimeOffset(2026, 12, 6, 11, 0, 0, TimeSpan.Zero)), (a.Find(id)!.Address, a.Find(id)!.Status, a.Find(id)!.LastKeepAlive!.Value));

        Assert.True(b.Remove(id));
        Assert.False(a.Remove(id));
        Assert.True(a.Find(id)!.IsRemoved);
        b.Touch(id, AgentStatus.Active, null, null, DateTimeOffset.UnixEpoch);
        Assert.True(a.Find(id)!.IsRemoved);
        var reenrolled = a.TryAdd("web-01", null, null, _ => "t2");
        Assert.NotNull(reenrolled);
        Assert.NotEqual(id, reenrolled);
    }

    [Fact(Timeout = 120_000)]
    public async Task SaveWatermarks_NeverLowersOne()
    {
        await using var database = await fixture.OpenFreshAsync();
        await database.MigrateAsync(CancellationToken.None);
        var directory = new PostgresAgentDirectory(database, "a", NullLogger.Instance);
        Assert.Equal(0UL, directory.Watermark("001"));
        directory.SaveWatermarks([new("001", 40), new("002", 7)]);
        directory.SaveWatermarks([new("001", 12)]);
        Assert.Equal((40UL, 7UL), (directory.Watermark("001"), directory.Watermark("002")));
        directory.SaveWatermarks([new("001", 41)]);
        Assert.Equal(41UL, directory.Watermark("001"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Find_DatabaseStopped_ThrowsANonFatalErrorNamingIt_AndStatusIsBestEffort()
    {
        await using var server = await Vigil.Tests.Common.PostgresServer.StartAsync();
        var name = await server.CreateDatabaseAsync();
        await using var database = PostgresDatabase.Open(server.Url(name), server.Password);
        await database.MigrateAsync(CancellationToken.None);
        var directory = new PostgresAgentDirectory(database, "a", NullLogger.Instance);
        var id = directory.TryAdd("web-01", null, null, _ => "t")!;
        await server.StopAsync();

        var error = Assert.Throws<VigilException>(() => directory.Find(id));
        Assert.False(error.IsFatal);
        Assert.Contains($"shared database {database.Display} unavailable", error.Message);
        directory.Touch(id, AgentStatus.Active, null, null, DateTimeOffset.UnixEpoch);

        await server.StartAgainAsync();
        Assert.Equal("web-01", directory.Find(id)!.Name);
    }
}

public sealed class SharedCertificateAuthorityTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    [Fact(Timeout = 120_000)]
    public async Task LoadOrCreate_SecondManager_GetsTheSameCaAndTheKeyIsStoredEncrypted()
    {
        await using var database = await fixture.OpenFreshAsync();
        await database.MigrateAsync(CancellationToken.None);
        using var dirA = new Vigil.Tests.Common.TempDirectory();
        using var dirB = new Vigil.Tests.Common.TempDirectory();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 0, 0, 0, TimeSpan.Zero));
        var (a, originA) = await SharedCertificateAuthority.LoadOrCreateAsync(database, "pw", dirA.Path, "a", time, CancellationToken.None);
        var (b, originB) = await SharedCertificateAuthority.LoadOrCreateAsync(database, "pw", dirB.Path, "b", time, CancellationToken.None);
        using (a)
        using (b)
        {
            Assert.Equal("created in the shared database", originA);
            Assert.Equal("loaded from the shared database", originB);
            Assert.Equal(a.Certificate.Thumbprint, b.Certificate.Thumbprint);
            Assert.False(File.Exists(Path.Combine(dirB.Path, "ca.key")));
            Assert.Equal(b.CertificatePem.Trim(), File.ReadAllText(Path.Combine(dirB.Path, "ca.crt")).Trim());

            // What A signs, B accepts.
            using var agentKey = System.Security.Cryptography.ECDsa.Create();
            var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=x", agentKey, System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSigningRequestPem();
            using var agent = a.SignAgent(csr, "001");
            Assert.True(Transport.Security.CertificateAuthority.IsIssuedBy(agent, b.Certificate));
        }

        var stored = await fixture.Server.PsqlAsync(database.Source.ConnectionString.Split("Database=")[1].Split(';')[0], "SELECT encode(encrypted_key, 'hex') FROM ca_material");
        Assert.StartsWith("30", stored); // DER
        Assert.Contains("2a864886f70d01050d", stored); // OID 1.2.840.113549.1.5.13 (PBES2)
    }

    [Fact(Timeout = 120_000)]
    public async Task LoadOrCreate_WrongPassword_RefusesClearly()
    {
        await using var database = await fixture.OpenFreshAsync();
        await database.MigrateAsync(CancellationToken.None);
        using var dir = new Vigil.Tests.Common.TempDirectory();
        var (a, _) = await SharedCertificateAuthority.LoadOrCreateAsync(database, "right", dir.Path, "a", TimeProvider.System, CancellationToken.None);
        a.Dispose();
        var error = await Assert.ThrowsAsync<VigilException>(() => SharedCertificateAuthority.LoadOrCreateAsync(database, "wrong", dir.Path, "b", TimeProvider.System, CancellationToken.None));
        Assert.True(error.IsFatal);
        Assert.Contains("does not decrypt the shared CA key", error.Message);
    }

    [Fact(Timeout = 120_000)]
    public async Task LoadOrCreate_ExistingLocalCa_IsUploadedSoItsAgentsKeepWorking()
    {
        await using var database = await fixture.OpenFreshAsync();
        await database.MigrateAsync(CancellationToken.None);
        using var dir = new Vigil.Tests.Common.TempDirectory();
        using var local = Transport.Security.CertificateAuthority.LoadOrCreate(dir.Path, TimeProvider.System);
        var (shared, origin) = await SharedCertificateAuthority.LoadOrCreateAsync(database, "pw", dir.Path, "a", TimeProvider.System, CancellationToken.None);
        using (shared)
        {
            Assert.StartsWith("uploaded from", origin);
            Assert.Equal(local.Certificate.Thumbprint, shared.Certificate.Thumbprint);
        }
    }
}
