namespace Vigil.Analysis.Alerts;

/// <summary>
/// The manager's local time, as Wazuh prints alert times. The zone's offset is looked up at most once a minute per
/// thread (zone rules change on minute boundaries); converting every alert with TimeZoneInfo costs more than the rest
/// of the timestamp.
/// </summary>
internal static class LocalClock
{
    [ThreadStatic]
    private static (long Minute, TimeSpan Offset) t_offset;

    public static TimeSpan OffsetAt(DateTimeOffset time)
    {
        var minute = time.ToUnixTimeSeconds() / 60;
        if (t_offset.Minute != minute + 1)
        {
            t_offset = (minute + 1, TimeZoneInfo.Local.GetUtcOffset(time.UtcDateTime));
        }

        return t_offset.Offset;
    }

    /// <summary>The same instant in local time.</summary>
    public static DateTimeOffset ToLocal(DateTimeOffset time) => time.ToOffset(OffsetAt(time));

    /// <summary>A Unix time in local time.</summary>
    public static DateTimeOffset FromUnixSeconds(long epoch) => ToLocal(DateTimeOffset.FromUnixTimeSeconds(epoch));
}
