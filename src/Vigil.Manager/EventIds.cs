namespace Vigil.Manager;

/// <summary>Stable log event ids of `vigil manager` (6100–6109; the alert index 6120–6129).</summary>
internal static class EventIds
{
    public const int ResponseSent = 6100;
    public const int ResponseNotDelivered = 6101;
    public const int ResponseQueued = 6102;
    public const int ResponseDone = 6103;
    public const int EventFailed = 6104;
    public const int ResponseHandedOff = 6105;
    public const int RoutedResponseSent = 6106;
    public const int RoutedResponseDone = 6107;
    public const int RoutedResponseNotDelivered = 6108;
    public const int IndexSourceReplaced = 6120;
    public const int IndexCatchingUp = 6121;
    public const int IndexCaughtUp = 6122;
    public const int IndexCatchUpFailed = 6123;
    public const int IndexStoreUnavailable = 6124;
    public const int IndexBack = 6125;
    public const int IndexBatchFailed = 6126;
    public const int IndexRetentionFailed = 6127;
    public const int IndexLastAlertsLeft = 6128;
    public const int IndexPartitionsNotCreated = 6129;
}
