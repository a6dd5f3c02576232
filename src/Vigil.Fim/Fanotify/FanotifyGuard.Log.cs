using Microsoft.Extensions.Logging;

namespace Vigil.Fim.Fanotify;

internal sealed partial class FanotifyGuard
{
    private static partial class Log
    {
        [LoggerMessage(EventIds.PreventionStopped, LogLevel.Error, "prevention stopped: {Detail}")]
        public static partial void Stopped(ILogger logger, string detail);

        [LoggerMessage(EventIds.PreventionReadFailed, LogLevel.Warning, "prevention: reading the fanotify group failed ({Reason})")]
        public static partial void ReadFailed(ILogger logger, string reason);

        [LoggerMessage(EventIds.PreventionMalformedRecord, LogLevel.Warning, "prevention: malformed fanotify record skipped: {Reason}")]
        public static partial void MalformedRecord(ILogger logger, string reason);

        [LoggerMessage(EventIds.PreventionDecisionFailed, LogLevel.Warning, "prevention: deciding on {FilePath} failed, on_timeout {Decision} applied: {Reason}")]
        public static partial void DecisionFailed(ILogger logger, string filePath, string decision, string reason);

        [LoggerMessage(EventIds.PreventionAlertNotDelivered, LogLevel.Warning, "prevention: an alert could not be delivered: {Reason}")]
        public static partial void AlertNotDelivered(ILogger logger, string reason);

        [LoggerMessage(EventIds.PreventionAnswerFailed, LogLevel.Warning, "prevention: answering an event failed ({Reason})")]
        public static partial void AnswerFailed(ILogger logger, string reason);
    }
}
