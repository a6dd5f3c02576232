using System.Collections.Concurrent;

namespace Vigil.Web.Security;

/// <summary>A browser session: who, with which role, its CSRF token, and when it ends.</summary>
internal sealed record WebSession(string Id, string Username, string Role, string CsrfToken, DateTimeOffset ExpiresAt);

/// <summary>
/// Browser sessions, server-side and in memory: a restart logs everyone out, which is acceptable for a console
/// used by a few operators. A session ends after <see cref="Lifetime"/> whatever its use.
/// </summary>
internal sealed class SessionStore(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private readonly ConcurrentDictionary<string, WebSession> _sessions = new(StringComparer.Ordinal);

    public WebSession Create(string username, string role)
    {
        var now = time.GetUtcNow();
        foreach (var (id, old) in _sessions)
        {
            if (old.ExpiresAt <= now)
            {
                _sessions.TryRemove(id, out _);
            }
        }

        var session = new WebSession(UserStore.NewSecret(32), username, role, UserStore.NewSecret(32), now + Lifetime);
        _sessions[session.Id] = session;
        return session;
    }

    /// <summary>The live session with this id, or null (unknown or expired).</summary>
    public WebSession? Find(string id)
    {
        if (!_sessions.TryGetValue(id, out var session))
        {
            return null;
        }

        if (session.ExpiresAt <= time.GetUtcNow())
        {
            _sessions.TryRemove(id, out _);
            return null;
        }

        return session;
    }

    public void Remove(string id) => _sessions.TryRemove(id, out _);
}
