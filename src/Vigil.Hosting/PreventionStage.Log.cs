using Microsoft.Extensions.Logging;

namespace Vigil.Hosting;

internal sealed partial class PreventionStage
{
    [LoggerMessage(EventIds.PreventionAlertNotQueued, LogLevel.Error, "A prevention alert could not be queued: {Reason}")]
    private static partial void AlertNotQueued(ILogger logger, string reason, Exception exception);
}
