using Microsoft.Extensions.Logging;

namespace Vigil.Response.Execd;

internal sealed partial class ExecDaemon
{
    private static partial class Log
    {
        [LoggerMessage(EventIds.ExecdTimeoutLoopFailed, LogLevel.Error, "execd timeout loop: {ErrorType}: {Reason}; continuing")]
        public static partial void TimeoutLoopFailed(ILogger logger, string errorType, string reason);
    }
}
