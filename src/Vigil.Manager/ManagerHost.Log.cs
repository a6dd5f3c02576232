using Microsoft.Extensions.Logging;

namespace Vigil.Manager;

internal static partial class ManagerLog
{
    [LoggerMessage(EventIds.ResponseSent, LogLevel.Information, "Active response {Command} sent to agent {AgentId} ({AgentName})")]
    public static partial void ResponseSent(ILogger logger, string command, string agentId, string agentName);

    [LoggerMessage(EventIds.ResponseNotDelivered, LogLevel.Warning, "Active response {Command} for agent {AgentId} not delivered within {Deadline}: {Reason}")]
    public static partial void ResponseNotDelivered(ILogger logger, string command, string agentId, TimeSpan deadline, string reason);

    [LoggerMessage(EventIds.ResponseQueued, LogLevel.Information, "Active response {Command} for agent {AgentId} queued in its outbox until it connects (deadline {Deadline})")]
    public static partial void ResponseQueued(ILogger logger, string command, string agentId, DateTimeOffset deadline);

    [LoggerMessage(EventIds.ResponseDone, LogLevel.Information, "Agent {AgentId} carried out active response {ResponseId}")]
    public static partial void ResponseDone(ILogger logger, ulong responseId, string agentId);

    [LoggerMessage(EventIds.EventFailed, LogLevel.Error, "{Message}")]
    public static partial void EventFailed(ILogger logger, string message);
}
