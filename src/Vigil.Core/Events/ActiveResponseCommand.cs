using Vigil.Core.Configuration;

namespace Vigil.Core.Events;

/// <summary>
/// An active response the analysis decided on: the AR message JSON of spec §5.3 (the whole alert inside), the
/// wire name (<c>remove-threat0</c>), and where it runs: agent "000" is the manager itself, "all" every agent.
/// </summary>
public sealed record ActiveResponseCommand(string Name, ActiveResponseLocations Location, string TargetAgentId, string Json)
{
    /// <summary>The target meaning every active agent.</summary>
    public const string AllAgents = "all";
}

/// <summary>Where the analysis hands active responses: execd in-process, or the transport to an agent.</summary>
public interface IActiveResponseDispatcher
{
    /// <summary>Runs or routes one active response.</summary>
    public ValueTask DispatchAsync(ActiveResponseCommand command, CancellationToken cancellationToken);
}
