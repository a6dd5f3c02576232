namespace Vigil.Fim;

/// <summary>Stable log event ids of Vigil.Fim (3000–3099; on-access prevention 3050–3069).</summary>
internal static class EventIds
{
    public const int PreventionStopped = 3050;
    public const int PreventionReadFailed = 3051;
    public const int PreventionMalformedRecord = 3052;
    public const int PreventionDecisionFailed = 3053;
    public const int PreventionAlertNotDelivered = 3054;
    public const int PreventionAnswerFailed = 3055;
}
