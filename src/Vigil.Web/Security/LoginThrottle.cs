using System.Threading.RateLimiting;

namespace Vigil.Web.Security;

/// <summary>How many login attempts a client address and a user name get per window.</summary>
internal sealed record LoginLimits
{
    public int PerAddress { get; init; } = 30;

    public int PerUser { get; init; } = 10;

    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Login attempts, limited per client address (one host trying many names) and per user name (many hosts trying one
/// name). Every attempt counts, successful or not: a correct guess must not reset the count.
/// </summary>
internal sealed class LoginThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _byAddress;
    private readonly PartitionedRateLimiter<string> _byUser;

    public LoginThrottle(LoginLimits limits)
    {
        _byAddress = Limiter(limits.PerAddress, limits.Window);
        _byUser = Limiter(limits.PerUser, limits.Window);
    }

    /// <summary>Takes one attempt for both; false with how long to wait when either has none left.</summary>
    public bool TryAcquire(string address, string username, out TimeSpan retryAfter)
    {
        foreach (var (limiter, key) in new[] { (_byAddress, address), (_byUser, username.ToUpperInvariant()) })
        {
            using var lease = limiter.AttemptAcquire(key);
            if (!lease.IsAcquired)
            {
                retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                return false;
            }
        }

        retryAfter = TimeSpan.Zero;
        return true;
    }

    private static PartitionedRateLimiter<string> Limiter(int permits, TimeSpan window) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = window,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public void Dispose()
    {
        _byAddress.Dispose();
        _byUser.Dispose();
    }
}
