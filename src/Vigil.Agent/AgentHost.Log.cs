using Microsoft.Extensions.Logging;

namespace Vigil.Agent;

internal static partial class AgentLog
{
    [LoggerMessage(EventIds.QuarantineCommand, LogLevel.Information, "Quarantine command from the manager {Outcome}: {Message}")]
    public static partial void QuarantineCommand(ILogger logger, string outcome, string message);

    [LoggerMessage(EventIds.ResponseRefused, LogLevel.Warning, "Active response from the manager not run ({Outcome}): {Reason}")]
    public static partial void ResponseRefused(ILogger logger, string outcome, string reason);

    [LoggerMessage(EventIds.EngineNotQueued, LogLevel.Error, "Engine {Engine} could not queue {Path}; it goes to the manager unscanned")]
    public static partial void EngineNotQueued(ILogger logger, string engine, string path, Exception exception);
}
