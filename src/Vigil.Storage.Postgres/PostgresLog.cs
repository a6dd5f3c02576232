using Microsoft.Extensions.Logging;

namespace Vigil.Storage.Postgres;

internal static partial class PostgresLog
{
    [LoggerMessage(EventIds.DatabaseUnavailable, LogLevel.Warning, "Shared database {Database} unavailable ({Reason}); {Consequence}")]
    public static partial void Unavailable(ILogger logger, string database, string reason, string consequence);

    [LoggerMessage(EventIds.DatabaseBack, LogLevel.Information, "Shared database {Database} reachable again after {Seconds:0.0} s")]
    public static partial void Back(ILogger logger, string database, double seconds);

    [LoggerMessage(EventIds.StatusNotRecorded, LogLevel.Debug, "Agent {AgentId}'s status not recorded in the shared database: {Reason}")]
    public static partial void StatusNotRecorded(ILogger logger, string agentId, string reason);
}
