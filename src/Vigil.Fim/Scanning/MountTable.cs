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
    public bool IsSkipped(string path, Vigil.Core.Configuration.SyscheckOptions options)
    {
        if ((options.SkipProc && Under(path, "/proc")) || (options.SkipSys && Under(path, "/sys")) || (options.SkipDev && Under(path, "/dev")))
        {
            return true;
        }

        var type = FileSystemOf(path);
        return (options.SkipNfs && s_network.Contains(type))
            || (options.SkipProc && type == "proc")
            || (options.SkipSys && type is "sysfs" or "cgroup" or "cgroup2" or "securityfs" or "debugfs" or "tracefs")
            || (options.SkipDev && type is "devtmpfs" or "devpts" or "mqueue");
    }

    private static bool Under(string path, string root) =>
        path.StartsWith(root, StringComparison.Ordinal) && (path.Length == root.Length || path[root.Length] == '/');

    private static string Unescape(string field) =>
        field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
            .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);
}
