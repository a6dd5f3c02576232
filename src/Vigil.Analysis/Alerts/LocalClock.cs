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

    /// <summary>Writes <c>yyyy-MM-ddTHH:mm:ss</c> (with <paramref name="separator"/> between date and time) without
    /// a format string; returns the characters written (19).</summary>
    public static int FormatDateTime(DateTime local, Span<char> destination, char separator = 'T')
    {
        // One date computation for the three parts (Year, Month and Day each compute the date from the ticks).
        local.Deconstruct(out int year, out int month, out int day);
        Digits(destination, year, 4);
        destination[4] = '-';
        Digits(destination[5..], month, 2);
        destination[7] = '-';
        Digits(destination[8..], day, 2);
        destination[10] = separator;
        Digits(destination[11..], local.Hour, 2);
        destination[13] = ':';
        Digits(destination[14..], local.Minute, 2);
        destination[16] = ':';
        Digits(destination[17..], local.Second, 2);
        return 19;
    }

    public static void Digits(Span<char> destination, int value, int count)
    {
        for (var i = count - 1; i >= 0; i--)
        {
            destination[i] = (char)('0' + (value % 10));
            value /= 10;
        }
    }
}
