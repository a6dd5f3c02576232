using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Tests.Common;
using Vigil.Web;
using Vigil.Web.Index;

namespace Vigil.Dashboard.Tests;

/// <summary>
/// The manager's real web stack in this process (<see cref="VigilWebServer"/>: the API, authentication, CSRF, login
/// throttling, the alert stream and the dashboard files) on a free port, over a real alert index in a temp
/// directory and a real <see cref="AlertFeed"/>. Only the host's side (agents, quarantine commands, intelligence,
/// rules, logtest) is <see cref="RecordingOperations"/>. The admin has <see cref="AdminPassword"/>; a viewer is
/// created through the API.
/// </summary>
internal sealed class ManagerWebServer : IAsyncDisposable
{
    public const string ViewerName = "viewer";
    public const string AdminPassword = "admin-password-1";
    public const string ViewerPassword = "viewer-password-1";

    private readonly TempDirectory _temp;
    private readonly VigilWebServer _server;

    private ManagerWebServer(TempDirectory temp, AlertIndex index, AlertFeed feed, RecordingOperations operations, VigilWebServer server)
    {
        _temp = temp;
        Index = index;
        Feed = feed;
        Operations = operations;
        _server = server;
    }

    public Uri BaseAddress => _server.BaseAddress;

    public AlertIndex Index { get; }

    public AlertFeed Feed { get; }

    public RecordingOperations Operations { get; }

    public static async Task<ManagerWebServer> StartAsync()
    {
        var temp = new TempDirectory("vigil-dashboard-pages");
        AlertIndex? index = null;
        try
        {
            index = new AlertIndex(AlertIndex.PathUnder(temp.Path), new AlertIndexOptions(), TimeProvider.System);
            var feed = new AlertFeed();
            var operations = new RecordingOperations(index, feed);
            var options = new WebOptions { ListenAddress = "127.0.0.1", Port = 0, DataDirectory = temp.Combine("data"), InitialAdminPassword = AdminPassword };
            var server = await VigilWebServer.StartAsync(options, index, feed, operations, NullLoggerFactory.Instance, TimeProvider.System, TextWriter.Null, CancellationToken.None);
            var started = new ManagerWebServer(temp, index, feed, operations, server);
            try
            {
                await started.CreateViewerAsync();
            }
            catch
            {
                await started.DisposeAsync();
                throw;
            }

            return started;
        }
        catch
        {
            index?.Dispose();
            temp.Dispose();
            throw;
        }
    }

    /// <summary>Indexes alerts (alerts.json lines) and publishes each to the live feed, as the hosts do.</summary>
    public IReadOnlyList<IndexedAlert> Publish(params string[] alertJsons)
    {
        var added = Index.Add(alertJsons);
        foreach (var alert in added)
        {
            Feed.Publish(alert);
        }

        return added;
    }

    /// <summary>Indexes alerts without publishing them (they were there before the page opened).</summary>
    public IReadOnlyList<IndexedAlert> Add(params string[] alertJsons) => Index.Add(alertJsons);

    /// <summary>A browser-less client (cookies kept) that is not logged in.</summary>
    public HttpClient Anonymous() =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = BaseAddress };

    /// <summary>A browser-less session logged in through POST /api/login; returns the client and the CSRF token.</summary>
    public async Task<(HttpClient Client, string CsrfToken)> LoginAsync(string user, string password)
    {
        var client = Anonymous();
        using var login = await client.PostAsJsonAsync("api/login", new { username = user, password });
        if (login.StatusCode != HttpStatusCode.OK)
        {
            client.Dispose();
            throw new InvalidOperationException($"POST /api/login as {user}: {(int)login.StatusCode} {await login.Content.ReadAsStringAsync()}");
        }

        var body = await login.Content.ReadFromJsonAsync<JsonElement>();
        return (client, body.GetProperty("csrfToken").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _server.DisposeAsync();
        }
        finally
        {
            Index.Dispose();
            _temp.Dispose();
        }
    }

    private async Task CreateViewerAsync()
    {
        var (client, csrf) = await LoginAsync("admin", AdminPassword);
        using (client)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/users")
            {
                Content = JsonContent.Create(new { username = ViewerName, password = ViewerPassword, role = "viewer" }),
            };
            request.Headers.Add("X-CSRF-Token", csrf);
            using var created = await client.SendAsync(request);
            if (created.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"POST /api/users (viewer): {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            }
        }
    }
}

/// <summary>
/// The host's side of the API, recording what was asked of it. A quarantine command for the manager's own agent
/// ("000") is done here: like the real host's active-response log, it adds the matching quarantine alert (rule
/// 200300 restored, 200301 deleted) to the index and the feed. For another connected agent it is sent (202).
/// </summary>
internal sealed class RecordingOperations(AlertIndex index, AlertFeed feed) : IManagerOperations
{
    public ConcurrentQueue<string> Calls { get; } = new();

    public List<AgentSummary> Agents { get; } =
    [
        new("000", "vigil", "127.0.0.1", "1.0.0", "active", null),
        new("001", "web-01", "10.0.0.7", "1.0.0", "disconnected", TimeProvider.System.GetUtcNow().AddHours(-3)),
    ];

    public List<IntelStatus> IntelStatuses { get; } = [new("virustotal", true, 4, 1, 500, 12, 2, 3, 1, null)];

    public IReadOnlyList<AgentSummary> ListAgents() => Agents;

    public bool RemoveAgent(string agentId)
    {
        Calls.Enqueue($"remove {agentId}");
        return Agents.RemoveAll(a => a.Id == agentId) > 0;
    }

    public Task<QuarantineCommandResult> QuarantineAsync(string agentId, long quarantineId, QuarantineVerb verb, string requestedBy, CancellationToken cancellationToken)
    {
        var name = verb == QuarantineVerb.Restore ? "restore" : "delete";
        Calls.Enqueue($"{name} {agentId}/{quarantineId} by {requestedBy}");
        if (index.QuarantineRecord(agentId, quarantineId) is not { } record)
        {
            return Task.FromResult(new QuarantineCommandResult(QuarantineCommandStatus.NotFound, $"agent {agentId} reported no quarantine record {quarantineId}"));
        }

        if (record.State != QuarantineStates.Quarantined)
        {
            return Task.FromResult(new QuarantineCommandResult(QuarantineCommandStatus.Failed,
                $"quarantine record {quarantineId} of agent {agentId} is {record.State}, not in the vault"));
        }

        if (agentId != "000")
        {
            return Task.FromResult(new QuarantineCommandResult(QuarantineCommandStatus.Sent, $"{name} of quarantine record {quarantineId} sent to agent {agentId}"));
        }

        var now = TimeProvider.System.GetUtcNow();
        var alert = AlertSamples.Quarantine(AlertSamples.NewId(now), now, name, quarantineId, record.Path, record.AlertId, agentId, record.AgentName);
        foreach (var added in index.Add([alert]))
        {
            feed.Publish(added);
        }

        return Task.FromResult(new QuarantineCommandResult(QuarantineCommandStatus.Done,
            verb == QuarantineVerb.Restore ? $"restored to {record.Path}" : "deleted for good"));
    }

    public IReadOnlyList<IntelStatus> Intel() => IntelStatuses;

    public List<Vigil.Web.Api.EngineSummary> EngineSummaries { get; } =
    [
        new("custom-vigil-yara", "yara", new string('a', 64), "up", null, 0, 40, 2, new(new string('a', 64), 120, 500, 1, false)),
        new("custom-vigil-clamav", "clamav", "ClamAV 1.4.6/27000", "down", "clamd does not answer at /run/clamav/clamd.ctl", 3, 9, 0, null),
        new("custom-vigil-yara", "yara", new string('b', 64), "reload_error", "/etc/vigil/yara/bad.yar:3: syntax error", 0, 7, 0, new(new string('b', 64), 30, 30, 0, true),
            "001", "web-01", new DateTimeOffset(2026, 12, 7, 11, 0, 0, TimeSpan.Zero)),
    ];

    public IReadOnlyList<Vigil.Web.Api.EngineSummary> Engines() => EngineSummaries;

    public IReadOnlyList<RuleSummary> Rules() =>
    [
        new(100201, 7, "File added to the root directory.", ["ossec", "syscheck"], "local_rules.xml"),
        new(87105, 12, "VirusTotal: Alert - $(virustotal.source.file) - $(virustotal.positives) engines detected this file", ["virustotal"], "0490-virustotal_rules.xml"),
    ];

    public LogtestOutcome Logtest(string line)
    {
        Calls.Enqueue($"logtest {line}");
        return new LogtestOutcome(null, "no rule matched");
    }
}
