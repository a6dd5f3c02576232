using Vigil.Response.Execd;
using Vigil.Response.Quarantine;

namespace Vigil.Response.RemoveThreat;

/// <summary>
/// How Vigil's remove-threat is assembled, for `vigil remove-threat` and for the execd of every host (in process,
/// when the shipped wrapper is in place): the directories it may act in, the paths it never touches, the vault.
/// </summary>
internal static class RemoveThreatFactory
{
    /// <summary>The environment variable through which `vigil run` and `vigil agent` tell the programs their execd
    /// starts which directories are monitored (with <c>--directory</c> they are not the configuration's).</summary>
    public const string MonitoredVariable = "VIGIL_MONITORED";

    /// <summary>Sets <see cref="MonitoredVariable"/> for the active-response programs this process starts.</summary>
    public static void ExportMonitored(IEnumerable<string> directories) =>
        Environment.SetEnvironmentVariable(MonitoredVariable, string.Join('\n', directories));

    public static string[] MonitoredFromHost() =>
        Environment.GetEnvironmentVariable(MonitoredVariable) is { Length: > 0 } value
            ? [.. value.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(Path.IsPathRooted)]
            : [];

    /// <summary>The remover as `vigil remove-threat` runs it: acting only inside <paramref name="allowed"/>, never on Vigil's own files.</summary>
    public static RemoveThreatProgram CreateProgram(
        string home, string dataDir, IReadOnlyList<string> allowed, bool allowHardLinks, QuarantineAction defaultAction, TimeProvider time,
        long? maxFileSizeBytes = null, string? activeResponseLog = null)
    {
        var quarantine = new QuarantineOptions { DataDirectory = dataDir };
        var options = new RemoveThreatOptions
        {
            AllowedDirectories = allowed,
            ProtectedPaths =
            [
                Path.Combine(home, "active-response"), Path.Combine(home, "logs"), Path.Combine(home, "etc"),
                Path.Combine(home, "config"), Path.Combine(home, "ruleset"), dataDir, AppContext.BaseDirectory,
            ],
            AllowHardLinks = allowHardLinks,
            DefaultAction = defaultAction,
            MaxFileSizeBytes = maxFileSizeBytes ?? new RemoveThreatOptions().MaxFileSizeBytes,
        };
        QuarantineVault.EnsureDataDirectory(quarantine);
        var vault = new QuarantineVault(quarantine, new QuarantineStore(quarantine.DatabasePath, time), time);
        var log = new ActiveResponseLog(activeResponseLog ?? ActiveResponseLog.PathUnder(home), time);
        return new RemoveThreatProgram(new ThreatRemover(options, vault, time), log, options);
    }

    /// <summary>The line of Vigil's shipped wrapper <c>active-response/bin/remove-threat</c> that runs this command.</summary>
    public const string WrapperMarker = "\"$root/vigil\" remove-threat --home \"$root\"";

    /// <summary>
    /// What execd may run in process: Vigil's remove-threat, when <c>active-response/bin/remove-threat</c> is still the
    /// shipped wrapper or the package's native build of this command (a program put there by the operator runs as a
    /// child process, as always). Same options as the
    /// wrapper gives: the monitored directories, quarantine, no hard links.
    /// </summary>
    public static IReadOnlyDictionary<string, InProcessProgram> InProcess(
        string home, string dataDir, IReadOnlyList<string> monitored, string activeResponseLog, TimeProvider time, long? maxFileSizeBytes = null)
    {
        if (!ShippedRemoveThreat.IsShipped(Path.Combine(home, "active-response", "bin", "remove-threat"), WrapperMarker))
        {
            return new Dictionary<string, InProcessProgram>();
        }

        return new Dictionary<string, InProcessProgram>(StringComparer.Ordinal)
        {
            [RemoveThreatProgram.DefaultProgramName] = (input, output, token) =>
                CreateProgram(home, dataDir, monitored, allowHardLinks: false, QuarantineAction.Quarantine, time, maxFileSizeBytes, activeResponseLog).RunAsync(input, output, token),
        };
    }
}
