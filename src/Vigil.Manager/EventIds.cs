namespace Vigil.Manager;

/// <summary>Stable log event ids of `vigil manager` (6100–6109).</summary>
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
}
