namespace Vigil.Intel.VirusTotal;

/// <summary>
/// What several managers share for VirusTotal (one PostgreSQL): the quota of each API key, the verdict cache and the
/// lookups in flight. Null in <see cref="IntelService"/> for a manager alone (its SQLite store does all three).
/// A call that cannot reach the store throws a <see cref="Core.VigilException"/>; the service then waits and retries,
/// and sends nothing meanwhile (a quota it cannot count is a quota it could exceed).
/// </summary>
internal interface ISharedIntel
{
    /// <summary>A verdict another manager (or this one) stored for this hash (SHA-256, SHA-1 or MD5) that is still fresh.</summary>
    public FileVerdict? TryGetVerdict(string hash);

    /// <summary>Stores a verdict and tells every manager it is there.</summary>
    public void PutVerdict(FileVerdict verdict, DateTimeOffset expires);

    /// <summary>Claims the lookup of a hash for <paramref name="lease"/>; false while another manager holds it.</summary>
    public bool TryClaim(string hash, TimeSpan lease);

    public void Release(string hash);

    /// <summary>
    /// Counts one request against the key's quota and returns null when it fits (a sliding minute and the UTC day,
    /// counted by one clock for all managers); otherwise returns when to try again and which quota is spent.
    /// </summary>
    public (DateTimeOffset Until, QuotaKind Kind)? TryAcquire(string keyId, int perMinute, int perDay);

    /// <summary>
    /// The request of a slot <see cref="TryAcquire"/> granted is over (answered, failed or timed out): its slot now
    /// counts from this moment, which is after VirusTotal saw it. Until then it counts as in flight.
    /// </summary>
    public void Answered(string keyId);

    /// <summary>Completes when a verdict is stored by any manager after the call (a hint to look again).</summary>
    public Task VerdictStored { get; }
}
