namespace Vigil.Fim.Probe;

/// <summary>
/// The probe marks only a tmpfs mounted exactly at its directory, in a mount namespace that is not init's: a mark on
/// the root filesystem would put every open on the machine through the probe.
/// </summary>
internal static class Safety
{
    public static string? Check(string directory)
    {
        // The caller names the namespace it runs in (VIGIL_PROBE_HOST_MNTNS, read from its /proc/self/ns/mnt): the probe's
        // must differ from it, and from init's when that is readable.
        var own = Fanotify.FanotifyLibC.TryReadLink("/proc/self/ns/mnt");
        var host = Environment.GetEnvironmentVariable("VIGIL_PROBE_HOST_MNTNS");
        var init = Fanotify.FanotifyLibC.TryReadLink("/proc/1/ns/mnt");
        if (own is null || string.IsNullOrEmpty(host) || own == host || own == init)
        {
            return $"refusing: not in a private mount namespace (self {own}, caller {host}, init {init}); run inside unshare -m";
        }

        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            var dash = Array.IndexOf(fields, "-");
            if (fields.Length > 4 && dash > 0 && dash + 1 < fields.Length && fields[4] == directory)
            {
                // The last mount at that point is the one in effect; keep reading.
                if (fields[dash + 1] == "tmpfs")
                {
                    return null;
                }
            }
        }

        return $"refusing: {directory} is not a tmpfs mount point";
    }
}
