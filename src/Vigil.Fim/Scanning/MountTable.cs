namespace Vigil.Fim.Scanning;

/// <summary>Mount points and filesystem types from /proc/self/mountinfo, for skip_nfs/skip_dev/skip_sys/skip_proc.</summary>
internal sealed class MountTable
{
    private static readonly HashSet<string> s_network = ["nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "9p"];

    private readonly (string MountPoint, string Type)[] _mounts;

    public MountTable(IEnumerable<(string MountPoint, string Type)> mounts) =>
        _mounts = [.. mounts.OrderByDescending(m => m.MountPoint.Length)];

    public static MountTable Load()
    {
        var mounts = new List<(string, string)>();
        try
        {
            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                // id parent major:minor root mountpoint options [optional...] - fstype source superopts
                var fields = line.Split(' ');
                var dash = Array.IndexOf(fields, "-");
                if (fields.Length > 4 && dash > 0 && dash + 1 < fields.Length)
                {
                    mounts.Add((Unescape(fields[4]), fields[dash + 1]));
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return new MountTable(mounts);
    }

    /// <summary>The filesystem type of the mount that holds the path, or "" when unknown.</summary>
    public string FileSystemOf(string path)
    {
        foreach (var (mountPoint, type) in _mounts)
        {
            if (path == mountPoint || mountPoint == "/" || (path.StartsWith(mountPoint, StringComparison.Ordinal) && path[mountPoint.Length] == '/'))
            {
                return type;
            }
        }

        return "";
    }

    /// <summary>Whether skip_* options exclude this path (by path prefix and by filesystem type).</summary>
    public bool IsSkipped(string path, Vigil.Core.Configuration.SyscheckOptions options) => SkippedBy(path, options) is not null;

    /// <summary>The skip_* option that excludes this path ("skip_dev", ...), or null when none does.</summary>
    public string? SkippedBy(string path, Vigil.Core.Configuration.SyscheckOptions options)
    {
        var type = FileSystemOf(path);
        return (options.SkipProc && (Under(path, "/proc") || type == "proc")) ? "skip_proc"
            : (options.SkipSys && (Under(path, "/sys") || type is "sysfs" or "cgroup" or "cgroup2" or "securityfs" or "debugfs" or "tracefs")) ? "skip_sys"
            : (options.SkipDev && (Under(path, "/dev") || type is "devtmpfs" or "devpts" or "mqueue")) ? "skip_dev"
            : (options.SkipNfs && s_network.Contains(type)) ? "skip_nfs"
            : null;
    }

    private static bool Under(string path, string root) =>
        path.StartsWith(root, StringComparison.Ordinal) && (path.Length == root.Length || path[root.Length] == '/');

    private static string Unescape(string field) =>
        field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
            .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);
}

/// <summary>Why FIM leaves a configured directory out, for the hosts' start lines and `vigil config check`.</summary>
public static class SkippedDirectories
{
    /// <summary>
    /// A sentence naming the skip_* option that leaves <paramref name="path"/> out (/dev/shm under skip_dev, an NFS
    /// share under skip_nfs) and how to take it in; null when FIM monitors it.
    /// </summary>
    public static string? Explain(string path, Vigil.Core.Configuration.SyscheckOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return MountTable.Load().SkippedBy(Path.GetFullPath(path), options) is { } option
            ? $"{path} is left out by <{option}> (yes by default): nothing under it is monitored; set <{option}>no</{option}> in <syscheck> to monitor it"
            : null;
    }
}
