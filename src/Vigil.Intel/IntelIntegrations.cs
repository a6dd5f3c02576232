using Vigil.Core.Configuration;
using Vigil.Intel.Engines;

namespace Vigil.Intel;

/// <summary>
/// Which integration blocks of an ossec.conf Vigil's intelligence runs (the others are Wazuh's own integrations),
/// here rather than in the hosts so that a one-shot command (`vigil scan`) reads them without loading a host.
/// </summary>
internal static class IntelIntegrations
{
    /// <summary>The lookup blocks: virustotal and custom-vigil-lists.</summary>
    public static IReadOnlyList<IntegrationOptions> Lookups(OssecConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return [.. config.Integrations.Where(i => i.Name is "virustotal" or "custom-vigil-lists")];
    }

    /// <summary>The detection engines' blocks (custom-vigil-yara, custom-vigil-clamav); they run where the files are.</summary>
    public static IReadOnlyList<IntegrationOptions> Engines(OssecConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return [.. config.Integrations.Where(EngineSettings.IsEngine)];
    }
}
