namespace Vigil.Agent;

/// <summary>Stable log event ids of `vigil agent` (6110–6119 for responses, 6200–6209 for quarantine commands, 6210–6219 for its engines).</summary>
internal static class EventIds
{
    public const int ResponseRefused = 6110;
    public const int QuarantineCommand = 6200;
    public const int EngineNotQueued = 6210;
}
