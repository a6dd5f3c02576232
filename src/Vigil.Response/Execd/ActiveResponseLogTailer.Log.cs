using Microsoft.Extensions.Logging;

namespace Vigil.Response.Execd;

internal sealed partial class ActiveResponseLogTailer
{
    private static partial class Log
    {
        [LoggerMessage(EventIds.ActiveResponseLogReadFailed, LogLevel.Warning, "the active-response log {FilePath} could not be read: {ErrorType}: {Reason}; retrying")]
        public static partial void ReadFailed(ILogger logger, string filePath, string errorType, string reason);
    }
}
