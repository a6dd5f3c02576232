namespace Vigil.Web.Index;

/// <summary>
/// Where the alerts the API and the dashboard search live: <see cref="AlertIndex"/> (SQLite under the data directory,
/// the default) or a store several managers share, so the dashboard of any of them shows every alert. Each manager
/// adds the alerts it wrote to its own alerts.json; <see cref="SourceEnd"/> is where this manager's alerts.json is
/// taken up to.
/// </summary>
internal interface IAlertStore : IDisposable
{
    /// <summary>Where in this manager's alerts.json the store has every alert up to, or null when no batch said.</summary>
    public long? SourceEnd { get; }

    /// <summary>Records that the store holds this manager's alerts.json up to <paramref name="end"/>.</summary>
    public void SetSourceEnd(long end);

    /// <summary>
    /// Adds a batch of alerts in one transaction, with <paramref name="sourceEnd"/> (where alerts.json ends after them)
    /// when given; returns how many were added. <paramref name="added"/>, when given, gets each alert as stored.
    /// </summary>
    public int Add(IReadOnlyList<AlertDocument> documents, long? sourceEnd, Action<IndexedAlert>? added = null);

    /// <summary>Adds a batch of alerts (each one line of alerts.json); returns them as stored.</summary>
    public IReadOnlyList<IndexedAlert> Add(IReadOnlyList<string> alertJsons, long? sourceEnd = null)
    {
        var added = new List<IndexedAlert>(alertJsons.Count);
        Add([.. alertJsons.Select(json => new AlertDocument(System.Text.Encoding.UTF8.GetBytes(json)))], sourceEnd, added.Add);
        return added;
    }

    /// <summary>One page of the alerts matching <paramref name="query"/> in [from, to), newest first, and the total.</summary>
    public AlertPage Search(AlertQuery query, DateTimeOffset from, DateTimeOffset to, int limit, int offset = 0);

    /// <summary>Alerts per bucket over [from, to): <paramref name="buckets"/> buckets of equal width (at least one second).</summary>
    public AlertHistogram Histogram(AlertQuery query, DateTimeOffset from, DateTimeOffset to, int buckets);

    /// <summary>The <paramref name="size"/> rules, agents or files with the most matching alerts in [from, to).</summary>
    public IReadOnlyList<TermCount> Top(TopField field, AlertQuery query, DateTimeOffset from, DateTimeOffset to, int size);

    /// <summary>The alert with this Wazuh id, or null.</summary>
    public IndexedAlert? Get(string alertId);

    /// <summary>Alerts added after <paramref name="seq"/>, oldest first (a live view catching up).</summary>
    public IReadOnlyList<IndexedAlert> After(long seq, int limit);

    /// <summary>The detection chain of <paramref name="file"/> on <paramref name="agentId"/>: its alerts oldest first and its quarantine records.</summary>
    public DetectionChain Chain(string agentId, string file);

    /// <summary>Every quarantine record the agents reported, newest first.</summary>
    public IReadOnlyList<QuarantineEntry> Quarantine();

    public QuarantineEntry? QuarantineRecord(string agentId, long quarantineId);

    /// <summary>How many alerts the store holds.</summary>
    public long Count();

    /// <summary>Removes alerts past the maximum age, then the oldest until the store fits its size limit. Returns how many went.</summary>
    public long ApplyRetention();

    /// <summary>Whether <paramref name="error"/> is one a retry may get past (the database unreachable), not a bad batch.</summary>
    public bool IsTransient(Exception error) => false;
}
