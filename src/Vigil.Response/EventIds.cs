namespace Vigil.Response;

/// <summary>Stable log event ids of Vigil.Response (5000–5099).</summary>
internal static class EventIds
{
    public const int ActiveResponseLogReadFailed = 5001;
    public const int ExecdTimeoutLoopFailed = 5010;
}
