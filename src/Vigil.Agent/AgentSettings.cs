using System.Globalization;
using Microsoft.Extensions.Options;
using Vigil.Hosting;
using Vigil.Transport.Agent;

namespace Vigil.Agent;

/// <summary>`vigil agent`'s own settings as its command line gives them, bound and checked at start (<see cref="HostSettings"/>).</summary>
internal sealed class AgentSettings
{
    /// <summary>--manager: HOST:PORT, or several as HOST:PORT,HOST:PORT,…; null when not given.</summary>
    public string? Managers { get; set; }

    public static IValidateOptions<AgentSettings> Validator { get; } = HostSettings.Validator<AgentSettings>(Failures);

    private static IEnumerable<string> Failures(AgentSettings settings)
    {
        if (settings.Managers is { } managers && ManagerList.Parse(managers).FirstOrDefault(m => !IsHostPort(m)) is { } bad)
        {
            yield return $"--manager: '{bad}' is not HOST:PORT";
        }
    }

    private static bool IsHostPort(string value) =>
        value.LastIndexOf(':') is var colon and > 0 && int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535;
}
