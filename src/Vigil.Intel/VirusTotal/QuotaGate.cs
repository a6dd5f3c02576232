namespace Vigil.Intel.VirusTotal;

/// <summary>
/// Vigil's own pacing, counted from the store's request log so that every process sharing the store (the
/// manager, each drop-in run) spends one quota: a sliding minute and the UTC day (VirusTotal resets daily
/// quotas at 00:00 UTC), plus any back-off VirusTotal imposed with a 429.
/// </summary>
internal sealed class QuotaGate(IntelStore store, IntelOptions options, TimeProvider timeProvider)
{
    private const string BackoffUntilKey = "quota.backoff_until";
    private const string BackoffKindKey = "quota.backoff_kind";

    /// <summary>Null when a request may be sent now; otherwise when to try again and which quota is spent.</summary>
    public (DateTimeOffset Until, QuotaKind Kind)? Check()
    {
        var now = timeProvider.GetUtcNow();
        if (store.GetState(BackoffUntilKey) is { } text && long.TryParse(text, out var ms))
        {
            var until = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            if (until > now)
            {
                return (until, Enum.TryParse<QuotaKind>(store.GetState(BackoffKindKey), out var kind) ? kind : QuotaKind.Minute);
            }
        }

        var dayStart = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        if (store.RequestsSince(dayStart).Count >= options.RequestsPerDay)
        {
            return (dayStart.AddDays(1), QuotaKind.Daily);
        }

        var (count, oldest) = store.RequestsSince(now.AddMinutes(-1).AddMilliseconds(1));
        if (count >= options.RequestsPerMinute && oldest is { } first)
        {
            return (first.AddMinutes(1), QuotaKind.Minute);
        }

        return null;
    }

    public void Record() => store.RecordRequest(timeProvider.GetUtcNow());

    public void BackOff(DateTimeOffset until, QuotaKind kind)
    {
        store.SetState(BackoffUntilKey, until.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        store.SetState(BackoffKindKey, kind.ToString());
    }

    public static DateTimeOffset NextUtcMidnight(DateTimeOffset now) => new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1);
}
