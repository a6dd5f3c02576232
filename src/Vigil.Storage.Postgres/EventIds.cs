namespace Vigil.Storage.Postgres;

/// <summary>Stable log event ids of the shared PostgreSQL stores (6900–6949).</summary>
internal static class EventIds
{
    public const int DatabaseUnavailable = 6900;
    public const int DatabaseBack = 6901;
    public const int StatusNotRecorded = 6902;
    public const int LeaderTaken = 6910;
    public const int LeaderLost = 6911;
    public const int SingletonJobFailed = 6912;
}
