namespace Vigil.Intel.VirusTotal;

/// <summary>
/// Vigil's own pacing, counted from the store's request log so that every process sharing the store (the
/// manager, each drop-in run) spends one quota: a sliding minute and the UTC day (VirusTotal resets daily
/// quotas at 00:00 UTC), plus any back-off VirusTotal imposed with a 429.
/// A request's slot counts from its answer, not from when it was granted: VirusTotal sees the request somewhere in
/// between (a busy host, a slow TLS handshake), so counted from the grant, the next minute could open before
/// VirusTotal's own has and it would see one request too many. Until its answer a slot is in flight: it counts in
/// every window, and a process that dies mid-request leaves it counting for <see cref="InFlight"/>.
/// </summary>
internal sealed class QuotaGate(IntelStore store, IntelOptions options, TimeProvider timeProvider)
{
    private const string BackoffUntilKey = "quota.backoff_until";
    private const string BackoffKindKey = "quota.backoff_kind";

    /// <summary>How far ahead a slot in flight is logged: the longest a dead process's request keeps counting.</summary>
    internal static readonly TimeSpan InFlight = TimeSpan.FromMinutes(5);

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
            // The oldest slot leaves the minute a minute after its answer; one still in flight: look again soon.
            return (first <= now ? first.AddMinutes(1) : now.AddSeconds(1), QuotaKind.Minute);
        }

        return null;
    }

    /// <summary>Counts one request about to be sent, as in flight; <see cref="Answered"/> ends it.</summary>
    public long Record() => store.RecordRequest(timeProvider.GetUtcNow() + InFlight);

    /// <summary>The request of <paramref name="slot"/> is over (answered, failed or timed out): it counts from now.</summary>
    public void Answered(long slot) => store.AnsweredRequest(slot, timeProvider.GetUtcNow());

    /// <summary>Counts <paramref name="request"/> against the quota from its grant until its answer, then from its answer.</summary>
    public async Task<T> SendAsync<T>(Func<Task<T>> request)
    {
        var slot = Record();
        try
        {
            return await request();
        }
        finally
        {
            Answered(slot);
        }
    }

    public void BackOff(DateTimeOffset until, QuotaKind kind)
    {
        store.SetState(BackoffUntilKey, until.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        store.SetState(BackoffKindKey, kind.ToString());
    }

    public static DateTimeOffset NextUtcMidnight(DateTimeOffset now) => new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1);
}
