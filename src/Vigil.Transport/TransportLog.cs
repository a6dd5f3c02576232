using System.Net;
using Microsoft.Extensions.Logging;

namespace Vigil.Transport;

/// <summary>The transport's log vocabulary: stable ids 6000-6099.</summary>
internal static partial class TransportLog
{
    [LoggerMessage(6000, LogLevel.Warning, "Refused agent connection from {Address}: {Reason}")]
    public static partial void AgentRefused(ILogger logger, string? address, string reason);

    [LoggerMessage(6001, LogLevel.Information, "Agent {AgentId} ({AgentName}) connected from {Address}")]
    public static partial void AgentConnected(ILogger logger, string agentId, string agentName, string? address);

    [LoggerMessage(6002, LogLevel.Information, "Agent {AgentId} ({AgentName}) disconnected")]
    public static partial void AgentDisconnected(ILogger logger, string agentId, string agentName);

    [LoggerMessage(6003, LogLevel.Information, "Enrolled agent {AgentId} ({AgentName}) from {Address}")]
    public static partial void AgentEnrolled(ILogger logger, string agentId, string agentName, string? address);

    [LoggerMessage(6004, LogLevel.Warning, "Refused enrollment from {Address}: {Reason}")]
    public static partial void EnrollmentRefused(ILogger logger, string? address, string reason);

    [LoggerMessage(6005, LogLevel.Warning, "Agent {AgentId} was removed from the registry; closing its stream")]
    public static partial void AgentRemovedWhileConnected(ILogger logger, string agentId);

    [LoggerMessage(6006, LogLevel.Warning, "Dropped a malformed event from agent {AgentId} (queue '{Queue}')")]
    public static partial void MalformedEvent(ILogger logger, string agentId, string queue);

    [LoggerMessage(6007, LogLevel.Warning, "Agent {AgentId} ({AgentName}) opened a new session from {Address}; closing its older session from {OldAddress} (one live session per agent)")]
    public static partial void SessionReplaced(ILogger logger, string agentId, string agentName, string? oldAddress, string? address);

    [LoggerMessage(6008, LogLevel.Information, "An older session of agent {AgentId} from {Address} closed; the agent stays connected on its newer session")]
    public static partial void StaleSessionClosed(ILogger logger, string agentId, string? address);

    [LoggerMessage(6010, LogLevel.Information, "Connected to the manager at {Manager} as agent {AgentId}")]
    public static partial void ConnectedToManager(ILogger logger, string manager, string agentId);

    [LoggerMessage(6011, LogLevel.Warning, "Connection to the manager at {Manager} failed or closed ({Reason}); retrying in {Delay}")]
    public static partial void ManagerUnreachable(ILogger logger, string manager, string reason, TimeSpan delay);

    [LoggerMessage(6012, LogLevel.Warning, "Agent event queue is full ({Capacity} events): dropping new events until the manager catches up")]
    public static partial void QueueFull(ILogger logger, int capacity);

    [LoggerMessage(6013, LogLevel.Information, "Active response {Command} received from the manager")]
    public static partial void ActiveResponseReceived(ILogger logger, string command);

    [LoggerMessage(6014, LogLevel.Error, "Refused the manager at {Manager}: its certificate {Subject} is not issued by the pinned manager CA (sha256 {CaFingerprint}); nothing is sent to it and no command is taken from it")]
    public static partial void ManagerCertificateRefused(ILogger logger, string manager, string subject, string caFingerprint);

    [LoggerMessage(6015, LogLevel.Error, "Refused agent {AgentId} ({AgentName}): {Reason}")]
    public static partial void AgentVersionRefused(ILogger logger, string agentId, string agentName, string reason);

    [LoggerMessage(6050, LogLevel.Warning, "Connection to the manager at {Manager} failed or closed ({Reason}); failing over to {Next} in {Delay}")]
    public static partial void FailingOver(ILogger logger, string manager, string reason, string next, TimeSpan delay);

    public static string Describe(IPAddress? address) => address?.ToString() ?? "unknown";
}
