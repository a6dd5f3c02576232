using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vigil.Core;
using Vigil.Core.Hashing;
using Vigil.Core.Native;
using Vigil.Response.Native;

namespace Vigil.Response.Quarantine;

/// <summary>
/// Moves open files into root-only vaults and back. Every operation works on descriptors opened without
/// following symlinks and checks that the name still refers to the inode that was checked before changing it.
/// </summary>
internal sealed class QuarantineVault(QuarantineOptions options, QuarantineStore store, TimeProvider timeProvider)
{
    private const uint VaultMode = 0x1C0; // 0700

    public QuarantineStore Store => store;

    public QuarantineOptions Options => options;

    /// <summary>Creates the data directory and the main vault (mode 0700) when missing.</summary>
    public static void EnsureDataDirectory(QuarantineOptions options)
    {
        foreach (var directory in new[] { options.DataDirectory, options.MainVaultDirectory, options.LockDirectory })
        {
            if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory);
                FileDescriptor.Check(ResponseLibC.Chmod(directory, VaultMode), "chmod", directory);
            }
        }
    }

    /// <summary>
    /// Moves the file named <paramref name="parent"/>.Name, whose open descriptor is <paramref name="file"/> and
    /// status <paramref name="stat"/>, into a vault and makes it inert (mode 000). Returns the vault path.
    /// <paramref name="beforeMove"/> is told the vault path before anything changes: the caller records its intent
    /// there, so that a removal cut short by a crash can be finished or undone.
    /// </summary>
    public string MoveIn(NoFollowPath parent, SafeFileHandle file, Stat stat, Action<string>? beforeMove = null)
    {
        var vaultName = Guid.NewGuid().ToString("N");
        using var mainVault = OpenVault(options.MainVaultDirectory);
        var mainStat = FileDescriptor.FStat(mainVault, options.MainVaultDirectory);
        string vaultPath;
        if (mainStat.Dev == stat.Dev)
        {
            vaultPath = RenameInto(parent, stat, mainVault, options.MainVaultDirectory, vaultName, beforeMove);
        }
        else if (options.UsePerFilesystemVaults && TryOpenFilesystemVault(parent, stat, out var fsVault, out var fsVaultPath))
        {
            using (fsVault)
            {
                vaultPath = RenameInto(parent, stat, fsVault, fsVaultPath, vaultName, beforeMove);
            }
        }
        else
        {
            // The copy is created with mode 000 already.
            return CopyInto(parent, file, stat, mainVault, options.MainVaultDirectory, vaultName, beforeMove);
        }

        // Inert: nobody but root can read it now, nobody can execute it. The descriptor is the moved inode.
        FileDescriptor.Check(ResponseLibC.FChmod(file.Fd(), 0), "chmod", vaultPath);
        return vaultPath;
    }

    /// <summary>Unlinks the file, provided its name still refers to the inode in <paramref name="stat"/>.</summary>
    public static void Unlink(NoFollowPath parent, Stat stat)
    {
        EnsureSameInode(parent, stat);
        FileDescriptor.Check(ResponseLibC.UnlinkAt(parent.Directory.Fd(), parent.Name, 0), "unlink", parent.FullPath);
    }

    /// <summary>
    /// Puts a quarantined file back (to its original path or <paramref name="to"/>) with its owner, mode and
    /// times, never over an existing file, and exempts that file (its path and SHA-256) from removal for
    /// <paramref name="exemptFor"/> (default 30 days). The exemption is written before the file reappears: FIM sees it
    /// at once, and a removal racing the restore must find it.
    /// </summary>
    public QuarantineRecord Restore(long id, string? to, TimeSpan? exemptFor = null)
    {
        var record = store.Get(id) ?? throw new VigilException($"no quarantine record with id {id}");
        if (record.State != QuarantineState.Quarantined)
        {
            throw new VigilException($"quarantine record {id} is {record.State.ToString().ToLowerInvariant()}, not in the vault");
        }

        var target = ResolveRestoreTarget(record, to);
        using var vaultParent = NoFollowPath.OpenParent(record.VaultPath);
        using var vaultFile = FileDescriptor.OpenAt(vaultParent.Directory, vaultParent.Name, LibC.O_RDONLY | LibC.O_NOFOLLOW | LibC.O_NONBLOCK, 0, record.VaultPath);
        var vaultStat = FileDescriptor.FStat(vaultFile, record.VaultPath);
        if (!vaultStat.IsRegularFile)
        {
            throw new VigilException($"vault entry {record.VaultPath} is a {vaultStat.TypeName}, not a regular file");
        }

        var hashes = FileHashes.Compute(vaultFile, bufferSize: 1 << 20);
        if (!string.Equals(hashes.Sha256, record.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new VigilException($"vault entry {record.VaultPath} has sha256 {hashes.Sha256}, not the recorded {record.Sha256}; not restored");
        }

        using var targetParent = NoFollowPath.OpenParent(target);
        if (FileDescriptor.TryLStatAt(targetParent.Directory, targetParent.Name, out var errno) is not null)
        {
            throw new VigilException($"{target} already exists; not overwritten");
        }

        if (errno != LibC.ENOENT)
        {
            throw new NativeIOException("stat", target, errno);
        }

        var exemption = store.AddExemption(target, record.Sha256, id, exemptFor ?? QuarantineOptions.DefaultExemptionLifetime);
        try
        {
            PutBack(record, target, vaultParent, vaultFile, vaultStat, targetParent);
        }
        catch
        {
            store.DeleteExemption(exemption);
            throw;
        }

        store.SetState(id, QuarantineState.Restored, target);
        return store.Get(id)!;
    }

    private static void PutBack(
        QuarantineRecord record, string target, NoFollowPath vaultParent, SafeFileHandle vaultFile, Stat vaultStat, NoFollowPath targetParent)
    {
        var targetDirStat = FileDescriptor.FStat(targetParent.Directory, targetParent.Prefixes[^1]);
        if (targetDirStat.Dev == vaultStat.Dev)
        {
            if (ResponseLibC.RenameAt2(vaultParent.Directory.Fd(), vaultParent.Name, targetParent.Directory.Fd(), targetParent.Name, ResponseLibC.RENAME_NOREPLACE) != 0)
            {
                var renameErrno = Marshal.GetLastPInvokeError();
                throw renameErrno == LibC.EEXIST
                    ? new VigilException($"{target} already exists; not overwritten")
                    : new NativeIOException("rename", target, renameErrno);
            }

            ApplyAttributes(vaultFile, record, target);
        }
        else
        {
            using var copy = FileDescriptor.TryOpenAt(targetParent.Directory, targetParent.Name, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_NOFOLLOW, 0, out var createErrno)
                ?? throw (createErrno == LibC.EEXIST
                    ? new VigilException($"{target} already exists; not overwritten")
                    : new NativeIOException("create", target, createErrno));
            FileCopy.CopyAndSync(vaultFile, copy, target);
            ApplyAttributes(copy, record, target);
            FileDescriptor.Check(ResponseLibC.UnlinkAt(vaultParent.Directory.Fd(), vaultParent.Name, 0), "unlink", record.VaultPath);
        }
    }

    /// <summary>Deletes a quarantined file from its vault for good.</summary>
    public QuarantineRecord Delete(long id)
    {
        var record = store.Get(id) ?? throw new VigilException($"no quarantine record with id {id}");
        if (record.State != QuarantineState.Quarantined)
        {
            throw new VigilException($"quarantine record {id} is {record.State.ToString().ToLowerInvariant()}, not in the vault");
        }

        using (var vaultParent = NoFollowPath.OpenParent(record.VaultPath))
        {
            if (ResponseLibC.UnlinkAt(vaultParent.Directory.Fd(), vaultParent.Name, 0) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != LibC.ENOENT)
                {
                    throw new NativeIOException("unlink", record.VaultPath, errno);
                }
            }
        }

        store.SetState(id, QuarantineState.Deleted);
        return store.Get(id)!;
    }

    /// <summary>Deletes every file quarantined more than <paramref name="olderThan"/> ago; returns the records deleted.</summary>
    public IReadOnlyList<QuarantineRecord> Purge(TimeSpan olderThan)
    {
        var cutoff = timeProvider.GetUtcNow() - olderThan;
        return [.. store.QuarantinedBefore(cutoff).Select(r => Delete(r.Id))];
    }

    private static string ResolveRestoreTarget(QuarantineRecord record, string? to)
    {
        if (to is null)
        {
            return record.OriginalPath;
        }

        var full = Path.GetFullPath(to);
        if (full.Length > 1)
        {
            full = full.TrimEnd('/');
        }

        // "--to DIR" restores into DIR under the original name.
        if (Directory.Exists(full) && !File.GetAttributes(full).HasFlag(FileAttributes.ReparsePoint))
        {
            return full == "/" ? "/" + Path.GetFileName(record.OriginalPath) : full + "/" + Path.GetFileName(record.OriginalPath);
        }

        return full;
    }

    private static void ApplyAttributes(SafeFileHandle file, QuarantineRecord record, string target)
    {
        // chown first: it clears set-id bits that the chmod then puts back.
        FileDescriptor.Check(ResponseLibC.FChown(file.Fd(), record.Uid, record.Gid), "chown", target);
        FileDescriptor.Check(ResponseLibC.FChmod(file.Fd(), record.Mode & 0xFFF), "chmod", target);
        TimeSpec[] times =
        [
            new() { Seconds = record.AtimeSeconds, Nanoseconds = record.AtimeNanoseconds },
            new() { Seconds = record.MtimeSeconds, Nanoseconds = record.MtimeNanoseconds },
        ];
        FileDescriptor.Check(LibC.FUtimens(file.Fd(), times), "utimens", target);
        FileDescriptor.Check(LibC.FSync(file.Fd()), "fsync", target);
    }

    private static string RenameInto(NoFollowPath parent, Stat stat, SafeFileHandle vault, string vaultDirectory, string vaultName, Action<string>? beforeMove)
    {
        EnsureSameInode(parent, stat);
        var vaultPath = vaultDirectory + "/" + vaultName;
        beforeMove?.Invoke(vaultPath);
        if (ResponseLibC.RenameAt2(parent.Directory.Fd(), parent.Name, vault.Fd(), vaultName, ResponseLibC.RENAME_NOREPLACE) != 0)
        {
            throw new NativeIOException("rename", parent.FullPath, Marshal.GetLastPInvokeError());
        }

        // The name could have been swapped between the check and the rename: if what moved is not the checked
        // inode, put it back where it was and stop.
        var moved = FileDescriptor.TryLStatAt(vault, vaultName, out _);
        if (moved is not { } m || !m.IsSameInode(stat))
        {
            ResponseLibC.RenameAt2(vault.Fd(), vaultName, parent.Directory.Fd(), parent.Name, ResponseLibC.RENAME_NOREPLACE);
            throw new VigilException($"{parent.FullPath} was replaced while it was being removed; put back, nothing removed");
        }

        FileDescriptor.Check(LibC.FSync(vault.Fd()), "fsync", vaultDirectory);
        return vaultPath;
    }

    private static string CopyInto(NoFollowPath parent, SafeFileHandle file, Stat stat, SafeFileHandle vault, string vaultDirectory, string vaultName, Action<string>? beforeMove)
    {
        var vaultPath = vaultDirectory + "/" + vaultName;
        beforeMove?.Invoke(vaultPath);
        using (var copy = FileDescriptor.OpenAt(vault, vaultName, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_NOFOLLOW, 0, vaultPath))
        {
            FileCopy.CopyAndSync(file, copy, vaultPath);
        }

        try
        {
            Unlink(parent, stat);
        }
        catch
        {
            ResponseLibC.UnlinkAt(vault.Fd(), vaultName, 0);
            throw;
        }

        FileDescriptor.Check(LibC.FSync(vault.Fd()), "fsync", vaultDirectory);
        return vaultPath;
    }

    private static void EnsureSameInode(NoFollowPath parent, Stat stat)
    {
        var now = FileDescriptor.TryLStatAt(parent.Directory, parent.Name, out var errno);
        if (now is null)
        {
            throw new NativeIOException("stat", parent.FullPath, errno);
        }

        if (!now.Value.IsSameInode(stat))
        {
            throw new VigilException($"{parent.FullPath} was replaced while it was being removed; nothing removed");
        }
    }

    /// <summary>Opens (creating when missing) <c>.vigil-quarantine</c> at the mount root of the file's filesystem.</summary>
    private static bool TryOpenFilesystemVault(NoFollowPath parent, Stat stat, out SafeFileHandle vault, out string vaultPath)
    {
        vault = null!;
        vaultPath = "";
        var level = parent.Devices.Count;
        while (level > 0 && parent.Devices[level - 1] == stat.Dev)
        {
            level--;
        }

        if (level == parent.Devices.Count)
        {
            return false; // the file itself is a mount point
        }

        var root = parent.DirectoryAt(level);
        if (ResponseLibC.MkdirAt(root.Fd(), QuarantineOptions.PerFilesystemVaultName, VaultMode) != 0 && Marshal.GetLastPInvokeError() != LibC.EEXIST)
        {
            return false;
        }

        var handle = FileDescriptor.TryOpenAt(root, QuarantineOptions.PerFilesystemVaultName, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW, 0, out _);
        if (handle is null)
        {
            return false;
        }

        // Only a directory we own, closed to everyone else, on the same filesystem, can be a vault.
        if (LibC.FStat(handle.Fd(), out var vaultStat) != 0 || !vaultStat.IsDirectory || vaultStat.Uid != Geteuid()
            || (vaultStat.Mode & 0x3F) != 0 || vaultStat.Dev != stat.Dev)
        {
            handle.Dispose();
            return false;
        }

        vault = handle;
        var prefix = parent.Prefixes[level];
        vaultPath = (prefix == "/" ? "" : prefix) + "/" + QuarantineOptions.PerFilesystemVaultName;
        return true;
    }

    private static SafeFileHandle OpenVault(string path)
    {
        var handle = NoFollowPath.OpenDirectory(path);
        var stat = FileDescriptor.FStat(handle, path);
        if ((stat.Mode & 0x3F) != 0)
        {
            FileDescriptor.Check(ResponseLibC.FChmod(handle.Fd(), VaultMode), "chmod", path);
        }

        return handle;
    }

    private static uint Geteuid() => ResponseLibC.Geteuid();
}
