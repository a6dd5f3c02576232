namespace Vigil.Hosting;

/// <summary>Stable log event ids of the parts the hosts share (7100–7199; the API audit log has 7000–7099).</summary>
internal static class EventIds
{
    public const int PreventionAlertNotQueued = 7100;
}
