using System.Globalization;
using System.Reflection;

namespace Vigil.Core;

/// <summary>
/// Vigil's version: one number set by the build (<c>Version</c> in Directory.Build.props), shown by
/// <c>vigil --version</c>, written into the package, recorded in the agent registry and sent in the agent/manager
/// handshake. As with Wazuh, a manager serves agents of its own version or older.
/// </summary>
public static class VigilVersion
{
    public static string Current { get; } =
        typeof(VigilVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>
    /// Why a manager of version <paramref name="manager"/> cannot serve an agent of version <paramref name="agent"/>,
    /// or null when it can. An agent that sends no version (an older build) is served; one that sends a version that
    /// is not <c>MAJOR.MINOR.PATCH</c> or is newer than the manager's is refused.
    /// </summary>
    public static string? CannotServe(string manager, string? agent)
    {
        if (string.IsNullOrEmpty(agent))
        {
            return null;
        }

        if (!TryParse(agent, out var agentVersion))
        {
            return $"agent version '{EventsText(agent)}' is not a Vigil version (MAJOR.MINOR.PATCH); the manager is {manager}";
        }

        if (TryParse(manager, out var managerVersion) && agentVersion > managerVersion)
        {
            return $"agent version {agent} is newer than the manager's {manager}: upgrade the manager first (a manager serves agents of its version or older)";
        }

        return null;
    }

    /// <summary>Parses <c>MAJOR.MINOR.PATCH</c>, ignoring a pre-release or build suffix (<c>-rc.1</c>, <c>+abc</c>).</summary>
    public static bool TryParse(string text, out Version version)
    {
        version = new Version(0, 0);
        var core = text.Split('-', '+')[0];
        var parts = core.Split('.');
        if (parts.Length != 3)
        {
            return false;
        }

        var numbers = new int[3];
        for (var i = 0; i < 3; i++)
        {
            if (parts[i].Length is 0 or > 9 || !parts[i].All(char.IsAsciiDigit) || !int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return false;
            }
        }

        version = new Version(numbers[0], numbers[1], numbers[2]);
        return true;
    }

    // A version from the network, shown in a message: printable ASCII only, at most 64 characters.
    private static string EventsText(string text) =>
        new([.. text.Take(64).Select(c => c is >= ' ' and <= '~' ? c : '?')]);
}
