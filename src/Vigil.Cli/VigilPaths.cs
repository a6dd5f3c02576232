namespace Vigil.Cli;

/// <summary>
/// Where Vigil's files are: the home (Wazuh's /var/ossec: config/, ruleset/, active-response/bin) and the data
/// directory (alerts, baselines, queues, quarantine). The ./vigil script sets VIGIL_HOME to the checkout.
/// </summary>
internal static class VigilPaths
{
    public static string Home =>
        Environment.GetEnvironmentVariable("VIGIL_HOME") is { Length: > 0 } home ? Path.GetFullPath(home) : FindHome();

    public static string DefaultConfig => Path.Combine(Home, "config", "ossec.conf");

    /// <summary>Data directory: VIGIL_DATA, else <c>.vigil</c> under the home.</summary>
    public static string Data =>
        Environment.GetEnvironmentVariable("VIGIL_DATA") is { Length: > 0 } data ? Path.GetFullPath(data) : Path.Combine(Home, ".vigil");

    // Installed or run from a build: walk up from the program until a folder holds config/ossec.conf.
    private static string FindHome()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "config", "ossec.conf")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
