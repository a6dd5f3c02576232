using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vigil.Core;
using Vigil.Core.Hashing;
using Vigil.Core.Native;
using Vigil.Response.Native;
using Vigil.Response.Quarantine;

namespace Vigil.Response.RemoveThreat;

/// <summary>
/// Removes one flagged file, safely: the path is checked (absolute, normalized, inside an allowed directory, not
/// Vigil's), opened from "/" without following any symlink, must be a regular file with one link whose content
/// still has the flagged hash, and is then quarantined (or deleted) through the held descriptors, under a
/// cross-process lock per path so that two responses for one file cannot both act (and one large file never holds
/// up the removal of another). A file whose size differs from the alert's is not hashed; one over the size limit is
/// refused unread.
/// </summary>
internal sealed class ThreatRemover
{
    private readonly RemoveThreatOptions _options;
    private readonly QuarantineVault _vault;
    private readonly TimeProvider _timeProvider;
    private readonly string[] _allowed;
    private readonly string[] _protected;

    public ThreatRemover(RemoveThreatOptions options, QuarantineVault vault, TimeProvider timeProvider)
    {
        _options = options;
        _vault = vault;
        _timeProvider = timeProvider;
        _allowed = [.. options.AllowedDirectories.Select(Normalize)];
        _protected = [.. options.ProtectedPaths.Select(Normalize).Append(Normalize(vault.Options.DataDirectory))];
    }

    public async Task<RemovalResult> RemoveAsync(ThreatTarget target, QuarantineAction action, CancellationToken cancellationToken)
    {
        if (CheckPolicy(target) is { } refusal)
        {
            return new RemovalResult(RemovalOutcome.Refused, refusal);
        }

        QuarantineVault.EnsureDataDirectory(_vault.Options);
        using var removalLock = await AcquireLockAsync(target.Path, cancellationToken);
        if (removalLock is null)
        {
            return new RemovalResult(RemovalOutcome.Failed, $"another removal of this file held its lock for {_options.LockTimeout.TotalSeconds:0} s; nothing was touched");
        }

        try
        {
            return RemoveLocked(target, action);
        }
        catch (NativeIOException ex)
        {
            return new RemovalResult(RemovalOutcome.Failed, ex.Message);
        }
        catch (VigilException ex)
        {
            return new RemovalResult(RemovalOutcome.Failed, ex.Message);
        }
    }

    /// <summary>
    /// The record this very response (its alert id and path) already made, when it runs a second time; a removal a
    /// crash cut short (its record still pending) is finished first, or undone when the file is still in place (then
    /// null: the removal runs as new).
    /// </summary>
    public async Task<QuarantineRecord?> PreviousRunAsync(ThreatTarget target, CancellationToken cancellationToken)
    {
        if (target.AlertId is not { Length: > 0 } alertId || _vault.Store.ForAlert(alertId, target.Path) is not { } record)
        {
            return null;
        }

        if (record.State != QuarantineState.Pending || CheckPolicy(target) is not null)
        {
            return record;
        }

        QuarantineVault.EnsureDataDirectory(_vault.Options);
        using var removalLock = await AcquireLockAsync(target.Path, cancellationToken);
        return removalLock is null ? null : Resume(record);
    }

    // A pending record: where the crash left the file decides. Still at its path (the same inode): nothing was done,
    // or a copy into the vault was begun, which goes. Else the delete happened, or the file is in the vault (made
    // inert again: the crash may have come before its chmod). Neither: nothing to finish; the record goes.
    private QuarantineRecord? Resume(QuarantineRecord record)
    {
        if (LStat(record.OriginalPath) is { } here && here.Dev == record.Device && here.Ino == record.Inode)
        {
            if (record.VaultPath.Length > 0 && LStat(record.VaultPath) is not null)
            {
                using var vault = NoFollowPath.OpenParent(record.VaultPath);
                FileDescriptor.Check(ResponseLibC.UnlinkAt(vault.Directory.Fd(), vault.Name, 0), "unlink", record.VaultPath);
            }

            _vault.Store.Remove(record.Id);
            return null;
        }

        if (record.Action == QuarantineAction.Delete)
        {
            _vault.Store.SetState(record.Id, QuarantineState.Deleted);
            return record with { State = QuarantineState.Deleted };
        }

        if (record.VaultPath.Length > 0 && LStat(record.VaultPath) is { IsRegularFile: true })
        {
            FileDescriptor.Check(ResponseLibC.Chmod(record.VaultPath, 0), "chmod", record.VaultPath);
            _vault.Store.SetState(record.Id, QuarantineState.Quarantined);
            return record with { State = QuarantineState.Quarantined };
        }

        _vault.Store.Remove(record.Id);
        return null;
    }

    private static Stat? LStat(string path)
    {
        try
        {
            using var parent = NoFollowPath.OpenParent(path);
            return FileDescriptor.TryLStatAt(parent.Directory, parent.Name, out _);
        }
        catch (NativeIOException)
        {
            return null;
        }
    }

    /// <summary>Null when the path may be acted on; else why not. Checks the text only; the file system comes later.</summary>
    public string? CheckPolicy(ThreatTarget target)
    {
        if (NoFollowPath.ValidateAbsolute(target.Path) is { } problem)
        {
            return $"refused: {problem}";
        }

        if (!_allowed.Any(root => NoFollowPath.IsWithin(target.Path, root)))
        {
            return "refused: the path is not inside a monitored directory";
        }

        if (_protected.Any(p => NoFollowPath.IsWithin(target.Path, p))
            || target.Path.Split('/').Contains(QuarantineOptions.PerFilesystemVaultName))
        {
            return "refused: the path is one of Vigil's own files";
        }

        if (!target.HasHash)
        {
            return "refused: the alert carries no md5, sha1 or sha256 to check the file against";
        }

        return null;
    }

    private RemovalResult RemoveLocked(ThreatTarget target, QuarantineAction action)
    {
        NoFollowPath parent;
        try
        {
            parent = NoFollowPath.OpenParent(target.Path);
        }
        catch (NativeIOException ex) when (ex.Errno == LibC.ENOENT)
        {
            return GoneOrHandled(target);
        }
        catch (NativeIOException ex) when (ex.Errno == LibC.ELOOP)
        {
            return new RemovalResult(RemovalOutcome.Refused, $"refused: {ex.Path} is a symbolic link; links are never followed");
        }
        catch (NativeIOException ex) when (ex.Errno == LibC.ENOTDIR)
        {
            return new RemovalResult(RemovalOutcome.Refused, $"refused: {ex.Path} is not a directory");
        }

        using (parent)
        {
            // O_PATH first: it opens anything (fifo, device) without side effects, so the type can be checked safely.
            using var probe = FileDescriptor.TryOpenAt(parent.Directory, parent.Name, LibC.O_PATH | LibC.O_NOFOLLOW, 0, out var errno);
            if (probe is null)
            {
                return errno == LibC.ENOENT
                    ? GoneOrHandled(target)
                    : new RemovalResult(RemovalOutcome.Failed, $"open {target.Path}: {LibC.Describe(errno)}");
            }

            var probeStat = FileDescriptor.FStat(probe, target.Path);
            if (!probeStat.IsRegularFile)
            {
                return new RemovalResult(RemovalOutcome.Refused, $"refused: the path is a {probeStat.TypeName}, not a regular file");
            }

            using var file = FileDescriptor.OpenAt(parent.Directory, parent.Name, LibC.O_RDONLY | LibC.O_NOFOLLOW | LibC.O_NONBLOCK, 0, target.Path);
            var stat = FileDescriptor.FStat(file, target.Path);
            if (!stat.IsSameInode(probeStat))
            {
                return new RemovalResult(RemovalOutcome.Refused, "refused: the file was replaced while it was being checked");
            }

            if (stat.NLink > 1 && !_options.AllowHardLinks)
            {
                return new RemovalResult(RemovalOutcome.Refused,
                    $"refused: the file has {stat.NLink} hard links; its other names may lie outside the monitored directories");
            }

            // Cheap checks before reading: a file of another size cannot have the flagged content, and one over the
            // limit is not read at all (hashing gigabytes would hold this file's removal for minutes).
            if (target.Size is { } flaggedSize && flaggedSize != stat.Size)
            {
                return new RemovalResult(RemovalOutcome.HashChanged, $"size changed (flagged {flaggedSize} bytes, now {stat.Size}); nothing was touched");
            }

            if (stat.Size > _options.MaxFileSizeBytes)
            {
                return new RemovalResult(RemovalOutcome.Refused,
                    $"refused: the file is {stat.Size} bytes, over the removal limit of {_options.MaxFileSizeBytes} bytes (syscheck's file_max_size); it was not read");
            }

            var hashes = FileHashes.Compute(file, bufferSize: 1 << 20);
            if (Mismatch(target, hashes) is { } mismatch)
            {
                return new RemovalResult(RemovalOutcome.HashChanged, $"hash changed ({mismatch}); nothing was touched");
            }

            if (_vault.Store.IsExempt(target.Path, hashes.Sha256))
            {
                return new RemovalResult(RemovalOutcome.Exempt, $"exempt: this file (sha256 {hashes.Sha256}) was restored here from quarantine (see vigil quarantine exemptions)");
            }

            // The record is written, pending, before the file moves, and completed after: a crash in between leaves
            // a record that the response, run again, finishes or undoes (PreviousRunAsync).
            var record = NewRecord(target, stat, hashes, action) with { State = QuarantineState.Pending };
            try
            {
                if (action == QuarantineAction.Delete)
                {
                    record = _vault.Store.Add(record);
                    QuarantineVault.Unlink(parent, stat);
                    _vault.Store.SetState(record.Id, QuarantineState.Deleted);
                    record = record with { State = QuarantineState.Deleted };
                    return new RemovalResult(RemovalOutcome.Deleted, $"deleted (record id {record.Id})", record);
                }

                var vaultPath = _vault.MoveIn(parent, file, stat, planned => record = _vault.Store.Add(record with { VaultPath = planned }));
                CrashPoint.Reach(CrashPoint.QuarantineMoved);
                _vault.Store.SetState(record.Id, QuarantineState.Quarantined);
                record = record with { VaultPath = vaultPath, State = QuarantineState.Quarantined };
                return new RemovalResult(RemovalOutcome.Quarantined, $"quarantined (id {record.Id})", record);
            }
            catch when (record.Id != 0 && record.State == QuarantineState.Pending)
            {
                Resume(record); // the record follows what the failure left: most often the file still in place
                throw;
            }
        }
    }

    private RemovalResult GoneOrHandled(ThreatTarget target)
    {
        var latest = _vault.Store.LatestFor(target.Path);
        if (latest is not null
            && latest.State is QuarantineState.Quarantined or QuarantineState.Deleted
            && latest.QuarantinedAt >= _timeProvider.GetUtcNow() - _options.AlreadyHandledWindow
            && Mismatch(target, new FileHashes(latest.Md5, latest.Sha1, latest.Sha256, latest.Size)) is null)
        {
            return new RemovalResult(RemovalOutcome.AlreadyHandled, $"already removed by another response (quarantine id {latest.Id})", latest);
        }

        return new RemovalResult(RemovalOutcome.AlreadyGone, "no such file; nothing to remove");
    }

    /// <summary>Null when every hash the alert carries equals the file's; else the first difference.</summary>
    private static string? Mismatch(ThreatTarget target, FileHashes actual)
    {
        if (target.Sha256 is { } sha256 && sha256 != actual.Sha256)
        {
            return $"sha256 flagged {sha256}, now {actual.Sha256}";
        }

        if (target.Sha1 is { } sha1 && sha1 != actual.Sha1)
        {
            return $"sha1 flagged {sha1}, now {actual.Sha1}";
        }

        if (target.Md5 is { } md5 && md5 != actual.Md5)
        {
            return $"md5 flagged {md5}, now {actual.Md5}";
        }

        return null;
    }

    private QuarantineRecord NewRecord(ThreatTarget target, Stat stat, FileHashes hashes, QuarantineAction action) => new()
    {
        OriginalPath = target.Path,
        Action = action,
        Uid = stat.Uid,
        Gid = stat.Gid,
        Mode = stat.Mode,
        Size = stat.Size,
        AtimeSeconds = stat.ATime.Seconds,
        AtimeNanoseconds = stat.ATime.Nanoseconds,
        MtimeSeconds = stat.MTime.Seconds,
        MtimeNanoseconds = stat.MTime.Nanoseconds,
        Device = stat.Dev,
        Inode = stat.Ino,
        Md5 = hashes.Md5,
        Sha1 = hashes.Sha1,
        Sha256 = hashes.Sha256,
        AlertId = target.AlertId,
        RuleId = target.RuleId,
        Description = target.Description,
        AgentId = target.AgentId,
        AgentName = target.AgentName,
        QuarantinedAt = _timeProvider.GetUtcNow(),
    };

    private async Task<SafeFileHandle?> AcquireLockAsync(string target, CancellationToken cancellationToken)
    {
        var path = _vault.Options.LockPathFor(target);
        var handle = FileDescriptor.OpenAt(null, path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_NOFOLLOW, 0x180, path);
        var deadline = _timeProvider.GetUtcNow() + _options.LockTimeout;
        while (true)
        {
            if (ResponseLibC.Flock(handle.Fd(), ResponseLibC.LOCK_EX | ResponseLibC.LOCK_NB) == 0)
            {
                return handle; // closing the descriptor releases the lock
            }

            var errno = Marshal.GetLastPInvokeError();
            if ((errno != LibC.EAGAIN && errno != LibC.EINTR) || _timeProvider.GetUtcNow() >= deadline)
            {
                handle.Dispose();
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(5), _timeProvider, cancellationToken);
        }
    }

    private static string Normalize(string path)
    {
        var full = Path.GetFullPath(path);
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }
}
