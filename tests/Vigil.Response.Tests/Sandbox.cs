using System.Diagnostics;
using System.Security.Cryptography;
using Vigil.Core;
using Vigil.Core.Native;
using Vigil.Response.Execd;
using Vigil.Response.Quarantine;
using Vigil.Response.RemoveThreat;

namespace Vigil.Response.Tests;

/// <summary>A real temporary tree: a monitored directory, an outside directory, an install root with Vigil's data.</summary>
internal sealed class Sandbox : IDisposable
{
    private readonly List<string> _mounts = [];

    public Sandbox()
    {
        Root = Path.Combine(Path.GetTempPath(), "vigil-response-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Monitored);
        Directory.CreateDirectory(Outside);
        Directory.CreateDirectory(Path.Combine(Home, "active-response", "bin"));
        Directory.CreateDirectory(Path.Combine(Home, "logs"));
    }

    public string Root { get; }

    public string Monitored => Path.Combine(Root, "mon");

    public string Outside => Path.Combine(Root, "outside");

    public string Home => Path.Combine(Root, "home");

    public string DataDirectory => Path.Combine(Home, ".vigil");

    public string LogPath => ActiveResponseLog.PathUnder(Home);

    public QuarantineOptions QuarantineOptions => new() { DataDirectory = DataDirectory };

    public string WriteEicar(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, Eicar.Bytes);
        return path;
    }

    public static ThreatTarget EicarTarget(string path) =>
        new(path, Eicar.Md5, Eicar.Sha1, null) { AlertId = "1700000000.1234", RuleId = "87105", Description = "VirusTotal: Alert", AgentId = "000", AgentName = "test" };

    public QuarantineVault CreateVault(TimeProvider? time = null, QuarantineOptions? options = null)
    {
        time ??= TimeProvider.System;
        options ??= QuarantineOptions;
        QuarantineVault.EnsureDataDirectory(options);
        return new QuarantineVault(options, new QuarantineStore(options.DatabasePath, time), time);
    }

    public ThreatRemover CreateRemover(RemoveThreatOptions? options = null, QuarantineVault? vault = null, TimeProvider? time = null) =>
        new(options ?? DefaultRemoveOptions(), vault ?? CreateVault(time), time ?? TimeProvider.System);

    public RemoveThreatOptions DefaultRemoveOptions() => new()
    {
        AllowedDirectories = [Monitored],
        ProtectedPaths = [Path.Combine(Home, "active-response"), Path.Combine(Home, "logs")],
    };

    /// <summary>Mounts a fresh tmpfs at <paramref name="path"/> (unmounted on dispose); false when mounting is not permitted.</summary>
    public bool TryMountTmpfs(string path)
    {
        Directory.CreateDirectory(path);
        if (Run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", path) != 0)
        {
            return false;
        }

        _mounts.Add(path);
        return true;
    }

    public static int Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>
    /// Every entry under the given roots, without following symlinks: type, mode, owner, link count, and for
    /// files size, mtime and SHA-256, for links the target. Directory times are left out (removing a file
    /// changes its directory's mtime).
    /// </summary>
    public static Dictionary<string, string> Snapshot(params string[] roots)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            Walk(root, result);
        }

        return result;
    }

    /// <summary>Asserts that nothing changed between two snapshots except the listed paths.</summary>
    public static void AssertUnchangedExcept(Dictionary<string, string> before, Dictionary<string, string> after, params string[] changed)
    {
        foreach (var (path, state) in before)
        {
            if (changed.Contains(path))
            {
                continue;
            }

            Assert.True(after.TryGetValue(path, out var now), $"{path} disappeared");
            Assert.True(state == now, $"{path} changed: {state} -> {now}");
        }

        foreach (var path in after.Keys)
        {
            Assert.True(before.ContainsKey(path) || changed.Contains(path), $"{path} appeared");
        }
    }

    private static void Walk(string path, Dictionary<string, string> result)
    {
        if (LibC.FStatAt(LibC.AT_FDCWD, path, out var stat, LibC.AT_SYMLINK_NOFOLLOW) != 0)
        {
            return;
        }

        var type = stat.Mode & LibC.S_IFMT;
        var text = $"{stat.TypeName} mode={stat.Mode & 0xFFF:x} uid={stat.Uid} gid={stat.Gid} nlink={stat.NLink}";
        if (type == LibC.S_IFREG)
        {
            text += $" size={stat.Size} mtime={stat.MTime.Seconds}.{stat.MTime.Nanoseconds} sha256={Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))}";
        }
        else if (type == LibC.S_IFLNK)
        {
            text += $" -> {new FileInfo(path).LinkTarget}";
        }

        result[path] = text;
        if (type == LibC.S_IFDIR)
        {
            foreach (var child in Directory.EnumerateFileSystemEntries(path))
            {
                Walk(child, result);
            }
        }
    }

    public void Dispose()
    {
        foreach (var mount in _mounts)
        {
            Run("umount", mount);
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
