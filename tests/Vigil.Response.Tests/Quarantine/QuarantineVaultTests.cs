using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using Vigil.Core;
using Vigil.Core.Native;
using Vigil.Response.Quarantine;
using Vigil.Response.RemoveThreat;

namespace Vigil.Response.Tests.Quarantine;

public sealed class QuarantineVaultTests : IDisposable
{
    private readonly Sandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private static Stat LStat(string path)
    {
        Assert.Equal(0, LibC.FStatAt(LibC.AT_FDCWD, path, out var stat, LibC.AT_SYMLINK_NOFOLLOW));
        return stat;
    }

    /// <summary>An EICAR file owned by 1234:4321, mode 0640, with a fixed old mtime.</summary>
    private string WriteOwnedEicar(string path)
    {
        _sandbox.WriteEicar(path);
        Assert.Equal(0, Sandbox.Run("chown", "1234:4321", path));
        Assert.Equal(0, Sandbox.Run("chmod", "0640", path));
        Assert.Equal(0, Sandbox.Run("touch", "-m", "-d", "2020-01-02 03:04:05.123456789", path));
        return path;
    }

    private async Task<QuarantineRecord> QuarantineAsync(QuarantineVault vault, string path, TimeProvider? time = null)
    {
        var result = await _sandbox.CreateRemover(null, vault, time).RemoveAsync(Sandbox.EicarTarget(path), QuarantineAction.Quarantine, CancellationToken.None);
        Assert.Equal(RemovalOutcome.Quarantined, result.Outcome);
        return result.Record!;
    }

    [Fact]
    public async Task Restore_AfterQuarantine_PutsBackContentOwnerModeMtimeAndExempts()
    {
        var path = WriteOwnedEicar(Path.Combine(_sandbox.Monitored, "report.pdf"));
        var before = LStat(path);
        var vault = _sandbox.CreateVault();
        var record = await QuarantineAsync(vault, path);
        Assert.False(File.Exists(path));
        Assert.Equal(0u, LStat(record.VaultPath).Mode & 0xFFF);

        var restored = vault.Restore(record.Id, to: null);

        var after = LStat(path);
        Assert.Equal(QuarantineState.Restored, restored.State);
        Assert.Equal(path, restored.RestoredTo);
        Assert.Equal(Eicar.Sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
        Assert.Equal((before.Uid, before.Gid, before.Mode), (after.Uid, after.Gid, after.Mode));
        Assert.Equal((before.MTime.Seconds, before.MTime.Nanoseconds), (after.MTime.Seconds, after.MTime.Nanoseconds));
        Assert.False(File.Exists(record.VaultPath));
        Assert.True(vault.Store.IsExempt(path, Eicar.Sha256));

        // Exempt: the same file is not quarantined again at once.
        var again = await _sandbox.CreateRemover(vault: vault).RemoveAsync(Sandbox.EicarTarget(path), QuarantineAction.Quarantine, CancellationToken.None);
        Assert.Equal(RemovalOutcome.Exempt, again.Outcome);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task Restore_ExemptsThatPathAndHashOnly_UntilItExpiresOrIsRevoked()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var path = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "restored.com"));
        var vault = _sandbox.CreateVault(time);
        var record = await QuarantineAsync(vault, path, time);
        vault.Restore(record.Id, to: null);
        var remover = _sandbox.CreateRemover(vault: vault, time: time);

        // The same content elsewhere is not exempt: it is quarantined as usual.
        var copy = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "copy.com"));
        Assert.Equal(RemovalOutcome.Quarantined, (await remover.RemoveAsync(Sandbox.EicarTarget(copy), QuarantineAction.Quarantine, CancellationToken.None)).Outcome);
        Assert.Equal(RemovalOutcome.Exempt, (await remover.RemoveAsync(Sandbox.EicarTarget(path), QuarantineAction.Quarantine, CancellationToken.None)).Outcome);

        // 30 days later the exemption has expired.
        time.Advance(TimeSpan.FromDays(30) + TimeSpan.FromSeconds(1));
        Assert.False(vault.Store.IsExempt(path, Eicar.Sha256));
        Assert.Equal("expired", Assert.Single(vault.Store.Exemptions()).State);
        Assert.Equal(RemovalOutcome.Quarantined, (await remover.RemoveAsync(Sandbox.EicarTarget(path), QuarantineAction.Quarantine, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task RevokeExemption_ActiveExemption_EndsItAndASecondRevokeFails()
    {
        var path = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "restored.com"));
        var vault = _sandbox.CreateVault();
        var record = await QuarantineAsync(vault, path);
        vault.Restore(record.Id, to: null, exemptFor: TimeSpan.FromHours(1));
        var exemption = Assert.Single(vault.Store.Exemptions());
        Assert.Equal(("active", path, Eicar.Sha256, record.Id), (exemption.State, exemption.Path, exemption.Sha256, exemption.QuarantineId!.Value));
        Assert.InRange(exemption.ExpiresAt - exemption.CreatedAt, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));

        Assert.True(vault.Store.RevokeExemption(exemption.Id));
        Assert.False(vault.Store.RevokeExemption(exemption.Id));
        Assert.Equal("revoked", Assert.Single(vault.Store.Exemptions()).State);
        Assert.False(vault.Store.IsExempt(path, Eicar.Sha256));
    }

    [Fact]
    public void Open_DatabaseWithHashOnlyExemptions_MigratesThemToThePathTheyWereRestoredTo()
    {
        var database = Path.Combine(_sandbox.Monitored, "old-quarantine.db");
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"""
                CREATE TABLE quarantine (id INTEGER PRIMARY KEY AUTOINCREMENT, original_path TEXT NOT NULL, vault_path TEXT NOT NULL,
                    action TEXT NOT NULL, state TEXT NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL, mode INTEGER NOT NULL,
                    size INTEGER NOT NULL, atime_s INTEGER NOT NULL, atime_ns INTEGER NOT NULL, mtime_s INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL, dev INTEGER NOT NULL, ino INTEGER NOT NULL, md5 TEXT NOT NULL, sha1 TEXT NOT NULL,
                    sha256 TEXT NOT NULL, alert_id TEXT, rule_id TEXT, description TEXT, agent_id TEXT, agent_name TEXT,
                    quarantined_at INTEGER NOT NULL, updated_at INTEGER, restored_to TEXT);
                CREATE TABLE exemptions (sha256 TEXT PRIMARY KEY, quarantine_id INTEGER, created_at INTEGER NOT NULL);
                INSERT INTO quarantine VALUES (7, '/srv/a.com', '/v/1', 'quarantine', 'restored', 0, 0, 420, 68, 0, 0, 0, 0, 1, 2,
                    '{Eicar.Md5}', '{Eicar.Sha1}', '{Eicar.Sha256}', NULL, NULL, NULL, NULL, NULL, 1, NULL, '/srv/b.com');
                INSERT INTO exemptions VALUES ('{Eicar.Sha256}', 7, 1);
                """;
            command.ExecuteNonQuery();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var store = new QuarantineStore(database, TimeProvider.System);

        Assert.True(store.IsExempt("/srv/b.com", Eicar.Sha256));
        Assert.False(store.IsExempt("/srv/a.com", Eicar.Sha256));
        Assert.Equal(7, Assert.Single(store.Exemptions()).QuarantineId);
        Assert.Single(new QuarantineStore(database, TimeProvider.System).Exemptions()); // a second open migrates nothing twice
    }

    [Fact]
    public async Task Restore_WhenFileExists_RefusesAndOverwritesNothing()
    {
        var path = _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal"));
        var vault = _sandbox.CreateVault();
        var record = await QuarantineAsync(vault, path);
        File.WriteAllText(path, "new content");

        var error = Assert.ThrowsAny<VigilException>(() => vault.Restore(record.Id, to: null));

        Assert.Contains("already exists", error.Message);
        Assert.Equal("new content", File.ReadAllText(path));
        Assert.True(File.Exists(record.VaultPath));
        Assert.Equal(QuarantineState.Quarantined, vault.Store.Get(record.Id)!.State);
        Assert.False(vault.Store.IsExempt(path, Eicar.Sha256));
        Assert.Empty(vault.Store.Exemptions());
    }

    [Fact]
    public async Task Restore_ToDirectoryOnOtherFilesystem_CopiesWithAttributes()
    {
        var path = WriteOwnedEicar(Path.Combine(_sandbox.Monitored, "mal"));
        var before = LStat(path);
        var vault = _sandbox.CreateVault();
        var record = await QuarantineAsync(vault, path);
        var mount = Path.Combine(_sandbox.Root, "tmpfs");
        Assert.True(_sandbox.TryMountTmpfs(mount));

        var restored = vault.Restore(record.Id, to: mount);

        var target = Path.Combine(mount, "mal");
        Assert.Equal(target, restored.RestoredTo);
        var after = LStat(target);
        Assert.Equal(Eicar.Bytes, File.ReadAllBytes(target));
        Assert.Equal((before.Uid, before.Gid, before.Mode, before.MTime.Seconds, before.MTime.Nanoseconds), (after.Uid, after.Gid, after.Mode, after.MTime.Seconds, after.MTime.Nanoseconds));
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(record.VaultPath));
    }

    [Fact]
    public async Task Delete_QuarantinedFile_RemovesItFromVault()
    {
        var vault = _sandbox.CreateVault();
        var record = await QuarantineAsync(vault, _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "mal")));

        var deleted = vault.Delete(record.Id);

        Assert.Equal(QuarantineState.Deleted, deleted.State);
        Assert.False(File.Exists(record.VaultPath));
        Assert.ThrowsAny<VigilException>(() => vault.Delete(record.Id));
        Assert.ThrowsAny<VigilException>(() => vault.Restore(record.Id, null));
    }

    [Fact]
    public async Task Purge_OlderThan_DeletesOnlyOldRecords()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2024-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var vault = _sandbox.CreateVault(time);
        var old = await QuarantineAsync(vault, _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "old")), time);
        time.Advance(TimeSpan.FromDays(10));
        var recent = await QuarantineAsync(vault, _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "recent")), time);
        time.Advance(TimeSpan.FromDays(1));

        var purged = vault.Purge(TimeSpan.FromDays(5));

        Assert.Equal([old.Id], purged.Select(r => r.Id));
        Assert.False(File.Exists(old.VaultPath));
        Assert.True(File.Exists(recent.VaultPath));
        Assert.Equal(QuarantineState.Quarantined, vault.Store.Get(recent.Id)!.State);
    }

    [Fact]
    public async Task List_AfterQuarantines_ReturnsNewestFirstWithAlertDetails()
    {
        var vault = _sandbox.CreateVault();
        await QuarantineAsync(vault, _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "a")));
        await QuarantineAsync(vault, _sandbox.WriteEicar(Path.Combine(_sandbox.Monitored, "b")));

        var records = vault.Store.List();

        Assert.Equal(["b", "a"], records.Select(r => Path.GetFileName(r.OriginalPath)));
        Assert.All(records, r => Assert.Equal(("87105", "1700000000.1234", "VirusTotal: Alert", "000"), (r.RuleId, r.AlertId, r.Description, r.AgentId)));
        Assert.All(records, r => Assert.Equal((Eicar.Md5, Eicar.Sha1, 68L), (r.Md5, r.Sha1, r.Size)));
    }
}
