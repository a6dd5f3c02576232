using Microsoft.Extensions.Logging;

namespace Vigil.Manager;

internal static partial class AlertIndexingLog
{
    [LoggerMessage(EventIds.IndexSourceReplaced, LogLevel.Warning, "{AlertsJson} ends at byte {End:N0}, before the {From:N0} the alert index had taken (the file was replaced?): indexing from its end on")]
    public static partial void SourceReplaced(ILogger logger, string alertsJson, long end, long from);

    [LoggerMessage(EventIds.IndexCatchingUp, LogLevel.Information, "indexing {MiB:N0} MiB of {AlertsJson} that the alert index does not have yet (before analysis starts)")]
    public static partial void CatchingUp(ILogger logger, long miB, string alertsJson);

    [LoggerMessage(EventIds.IndexCaughtUp, LogLevel.Information, "indexed {Count:N0} alerts from {AlertsJson} that the alert index did not have yet")]
    public static partial void CaughtUp(ILogger logger, long count, string alertsJson);

    [LoggerMessage(EventIds.IndexCatchUpFailed, LogLevel.Error, "the alert index could not catch up with {AlertsJson} ({Reason}); alerts.json has the alerts; the dashboard misses them")]
    public static partial void CatchUpFailed(ILogger logger, string alertsJson, string reason);

    [LoggerMessage(EventIds.IndexStoreUnavailable, LogLevel.Warning, "the alert store is unavailable ({Reason}); {Count} alerts wait for it (alerts.json has them)")]
    public static partial void StoreUnavailable(ILogger logger, string reason, int count);

    [LoggerMessage(EventIds.IndexBack, LogLevel.Information, "the alert index works again (alerts.json holds the alerts it missed)")]
    public static partial void IndexBack(ILogger logger);

    [LoggerMessage(EventIds.IndexBatchFailed, LogLevel.Error, "the alert index could not take {Count} alerts ({Reason}); alerts.json has them; the dashboard misses them")]
    public static partial void BatchFailed(ILogger logger, int count, string reason);

    [LoggerMessage(EventIds.IndexRetentionFailed, LogLevel.Error, "alert index retention failed: {Reason}")]
    public static partial void RetentionFailed(ILogger logger, string reason);

    [LoggerMessage(EventIds.IndexPartitionsNotCreated, LogLevel.Warning, "the alert store's partitions ahead were not created ({Reason}); they are created as alerts need them")]
    public static partial void PartitionsNotCreated(ILogger logger, string reason);

    [LoggerMessage(EventIds.IndexLastAlertsLeft, LogLevel.Warning, "the alert store did not take the last alerts within 10 s; the next start indexes them from alerts.json")]
    public static partial void LastAlertsLeft(ILogger logger);
}
