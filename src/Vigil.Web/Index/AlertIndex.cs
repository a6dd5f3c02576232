using System.Text;

namespace Vigil.Web.Index;

/// <summary>How long the index keeps alerts, and how big it may grow. alerts.json is the record; the index is a view.</summary>
internal sealed record AlertIndexOptions
{
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(90);

    /// <summary>Live data size at which the oldest alerts go (by whole days' worth of rows, oldest first).</summary>
    public long MaxBytes { get; init; } = 4L << 30;

    /// <summary>About how much new WAL asks for a checkpoint (on a thread of its own, beside the writer).</summary>
    public long CheckpointBytes { get; init; } = 64L << 20;

    /// <summary>A WAL bigger than this (checkpoints falling behind) is checkpointed by the writer itself before it goes on.</summary>
    public long MaxWalBytes { get; init; } = 1L << 30;
}

/// <summary>
/// Every alert, indexed in SQLite for the API and the dashboard: by time, rule id, level, agent, groups and file.
/// The store is three parts over one database: the <see cref="AlertIndexWriter"/> (batches, checkpoints, retention),
/// the <see cref="AlertSearch"/> (on connections of their own, so searches never wait for the writer) and the
/// <see cref="QuarantineProjection"/> (quarantine records kept up to date from the quarantine alerts as they are added).
/// </summary>
internal sealed class AlertIndex : IAlertStore
{
    private readonly AlertIndexWriter _writer;
    private readonly AlertSearch _search;
    private readonly QuarantineProjection _quarantine;

    public AlertIndex(string path, AlertIndexOptions options, TimeProvider time)
    {
        _writer = new AlertIndexWriter(path, options, time);
        _quarantine = new QuarantineProjection(_writer.ConnectionString);
        _search = new AlertSearch(_writer.ConnectionString, _quarantine);
    }

    public static string PathUnder(string dataDirectory) => Path.Combine(dataDirectory, "index", "alerts.db");

    public string ConnectionString => _writer.ConnectionString;

    /// <summary>
    /// Where in alerts.json the index has taken every alert up to (the byte offset after the last alert of the last
    /// batch added with one), or null when no batch said.
    /// </summary>
    public long? SourceEnd => _writer.SourceEnd;

    /// <summary>Records that the index holds alerts.json's alerts up to <paramref name="end"/> (see <see cref="SourceEnd"/>).</summary>
    public void SetSourceEnd(long end) => _writer.SetSourceEnd(end);

    /// <summary>
    /// Indexes a batch of alerts (each one line of alerts.json) in one transaction; returns them as indexed.
    /// <paramref name="sourceEnd"/>, when given, is where alerts.json ends after them: it is committed with them.
    /// </summary>
    public IReadOnlyList<IndexedAlert> Add(IReadOnlyList<string> alertJsons, long? sourceEnd = null)
    {
        var added = new List<IndexedAlert>(alertJsons.Count);
        Add([.. alertJsons.Select(json => new AlertDocument(Encoding.UTF8.GetBytes(json)))], sourceEnd, added.Add);
        return added;
    }

    /// <inheritdoc cref="AlertIndexWriter.Add"/>
    public int Add(IReadOnlyList<AlertDocument> documents, long? sourceEnd, Action<IndexedAlert>? added = null) => _writer.Add(documents, sourceEnd, added);

    public AlertPage Search(AlertQuery query, DateTimeOffset from, DateTimeOffset to, int limit, int offset = 0) => _search.Search(query, from, to, limit, offset);

    public AlertHistogram Histogram(AlertQuery query, DateTimeOffset from, DateTimeOffset to, int buckets) => _search.Histogram(query, from, to, buckets);

    public IReadOnlyList<TermCount> Top(TopField field, AlertQuery query, DateTimeOffset from, DateTimeOffset to, int size) => _search.Top(field, query, from, to, size);

    public IndexedAlert? Get(string alertId) => _search.Get(alertId);

    public IReadOnlyList<IndexedAlert> After(long seq, int limit) => _search.After(seq, limit);

    public DetectionChain Chain(string agentId, string file) => _search.Chain(agentId, file);

    public IReadOnlyList<QuarantineEntry> Quarantine() => _quarantine.All();

    public QuarantineEntry? QuarantineRecord(string agentId, long quarantineId) => _quarantine.Record(agentId, quarantineId);

    /// <summary>How many alerts the index holds.</summary>
    public long Count() => _search.Count();

    /// <summary>Deletes alerts older than the maximum age, then the oldest until the live data fits the size limit. Returns how many went.</summary>
    public long ApplyRetention() => _writer.ApplyRetention();

    public void Dispose() => _writer.Dispose();

    /// <summary>
    /// The stage of an alert in a file's chain. Groups alone do not tell (the seed's 100092 is in group virustotal
    /// only), so the decoder does: active-response log lines are responses, or quarantine records when Vigil's
    /// quarantine wrote them; FIM decoders are FIM; integration results are verdicts. Every alert store classifies
    /// its chain steps with it.
    /// </summary>
    internal static ChainStage StageOf(IndexedAlert alert)
    {
        string? decoder = null;
        string? program = null;
        string? location = null;
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(alert.Json);
            var root = document.RootElement;
            decoder = root.TryGetProperty("decoder", out var d) && d.TryGetProperty("name", out var n) ? n.GetString() : null;
            location = root.TryGetProperty("location", out var l) ? l.GetString() : null;
            program = root.TryGetProperty("data", out var data) && data.ValueKind == System.Text.Json.JsonValueKind.Object
                && data.TryGetProperty("parameters", out var p) && p.ValueKind == System.Text.Json.JsonValueKind.Object
                && p.TryGetProperty("program", out var prog) && prog.ValueKind == System.Text.Json.JsonValueKind.String
                ? prog.GetString()
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
        }

        if ((alert.Groups.Contains("vigil_quarantine") || program?.EndsWith("vigil-quarantine", StringComparison.Ordinal) == true) && alert.RuleId != Core.Events.VigilRules.RemoveThreatNothingToDo)
        {
            return ChainStage.Quarantine;
        }

        if (decoder == "ar_log_json" || alert.Groups.Contains("active_response"))
        {
            return ChainStage.Response;
        }

        if (decoder?.StartsWith("syscheck", StringComparison.Ordinal) == true || alert.Groups.Contains("syscheck"))
        {
            return ChainStage.Fim;
        }

        if (location == "vigil-prevention" || alert.Groups.Contains("vigil_prevention"))
        {
            // Before the verdicts: a denied access carries data.virustotal.source for the removal, not a verdict.
            return ChainStage.Prevention;
        }

        if (location is "virustotal" or "vigil-intel" or "vigil-engine" || alert.Groups.Contains("virustotal") || alert.Groups.Contains("vigil_intel")
            || alert.Groups.Contains("vigil_engine"))
        {
            return ChainStage.Verdict;
        }

        return ChainStage.Other;
    }
}
