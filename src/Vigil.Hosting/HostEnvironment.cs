using Vigil.Core.Configuration;
using Vigil.Response.RemoveThreat;

namespace Vigil.Hosting;

/// <summary>What the programs a host starts (execd's active responses, `vigil remove-threat`) find in their environment.</summary>
internal static class HostEnvironment
{
    /// <summary>The host's home and data directory, so an active-response program acts on the same instance.</summary>
    public static void Export(string home, string dataDirectory)
    {
        Environment.SetEnvironmentVariable("VIGIL_HOME", home);
        Environment.SetEnvironmentVariable("VIGIL_DATA", dataDirectory);
    }

    /// <summary>As <see cref="Export(string, string)"/>, with the directories FIM watches (remove-threat acts only inside them).</summary>
    public static void Export(string home, string dataDirectory, OssecConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        RemoveThreatFactory.ExportMonitored(config.Syscheck.Directories.Select(d => d.Path));
        Export(home, dataDirectory);
    }
}
