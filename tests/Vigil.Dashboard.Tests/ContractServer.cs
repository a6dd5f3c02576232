using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Vigil.Dashboard.Tests;

/// <summary>
/// An in-memory server that answers as docs/api.md says, in the same process: it serves the dashboard files
/// embedded in Vigil.Manager (with the manager's CSP) and keeps alerts, quarantine records, agents and
/// intelligence counters in lists the tests fill. It checks the session cookie, the CSRF header and the roles.
/// </summary>
internal sealed class ContractServer : IAsyncDisposable
{
    public const string AdminPassword = "admin-password-1";
    public const string ViewerPassword = "viewer-password-1";

    /// <summary>Logging in as this user always answers 429 with Retry-After: 30.</summary>
    public const string RateLimitedUser = "hammered";

    public const string MalformedDetail = "unbalanced parentheses: '(' at column 10 is never closed";

    private static readonly Assembly s_dashboard = Assembly.Load("Vigil.Manager");
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly List<JsonObject> _alerts = [];
    private readonly List<JsonObject> _quarantine = [];
    private readonly List<Channel<JsonObject>> _subscribers = [];
    private readonly ConcurrentDictionary<string, (string User, string Role, string Csrf)> _sessions = new();
    private long _seq;

    private ContractServer(WebApplication app)
    {
        _app = app;
    }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>State-changing requests as "METHOD path csrf=ok|missing|wrong".</summary>
    public ConcurrentQueue<string> StateChanges { get; } = new();

    public static TimeProvider Time => TimeProvider.System;

    public static async Task<ContractServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new ContractServer(app);
        server.Map();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseAddress = new Uri(address + "/");
        return server;
    }

    /// <summary>A Wazuh-style timestamp ("2026-11-28T10:00:00.123+0000").</summary>
    public static string Timestamp(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture) + "+0000";

    /// <summary>Adds an alert to the index (not to the live stream).</summary>
    public JsonObject AddAlert(string ruleId, int level, string description, string file, DateTimeOffset time, string agentId = "000", string agentName = "vigil")
    {
        lock (_gate)
        {
            var seq = ++_seq;
            var id = $"{time.ToUnixTimeSeconds()}.{seq}";
            var document = new JsonObject
            {
                ["timestamp"] = Timestamp(time),
                ["rule"] = new JsonObject { ["level"] = level, ["description"] = description, ["id"] = ruleId, ["groups"] = new JsonArray("ossec", "syscheck") },
                ["agent"] = new JsonObject { ["id"] = agentId, ["name"] = agentName },
                ["id"] = id,
                ["syscheck"] = new JsonObject { ["path"] = file, ["event"] = "added" },
            };
            var item = new JsonObject
            {
                ["seq"] = seq,
                ["id"] = id,
                ["timestamp"] = Timestamp(time),
                ["agent"] = new JsonObject { ["id"] = agentId, ["name"] = agentName },
                ["rule"] = new JsonObject { ["id"] = ruleId, ["level"] = level, ["description"] = description, ["groups"] = new JsonArray("ossec", "syscheck") },
                ["file"] = file,
                ["alert"] = document,
            };
            _alerts.Insert(0, item);
            return item;
        }
    }

    /// <summary>Adds an alert and sends it to every open /api/alerts/stream.</summary>
    public JsonObject Publish(string ruleId, int level, string description, string file, DateTimeOffset time)
    {
        var item = AddAlert(ruleId, level, description, file, time);
        lock (_gate)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(item);
            }
        }

        return item;
    }

    public int StreamSubscribers
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count;
            }
        }
    }

    public void AddQuarantined(string id, string path, string sha256, string alertId)
    {
        lock (_gate)
        {
            var now = Timestamp(Time.GetUtcNow());
            _quarantine.Add(new JsonObject
            {
                ["agentId"] = "000",
                ["agentName"] = "vigil",
                ["id"] = id,
                ["path"] = path,
                ["sha256"] = sha256,
                ["state"] = "quarantined",
                ["alertId"] = alertId,
                ["ruleId"] = "100092",
                ["quarantinedAt"] = now,
                ["updatedAt"] = now,
                ["restoredTo"] = null,
            });
        }
    }

    public string? QuarantineState(string id)
    {
        lock (_gate)
        {
            return _quarantine.FirstOrDefault(q => (string?)q["id"] == id)?["state"]?.GetValue<string>();
        }
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static string Stage(string ruleId) => ruleId switch
    {
        "100200" or "100201" or "550" or "554" => "fim",
        "87105" or "200100" => "verdict",
        "100092" => "response",
        "553" => "quarantine",
        _ => "other",
    };

    private static IResult Problem(int status, string detail) => Results.Problem(detail: detail, statusCode: status);

    private static IResult Json(JsonNode node, int status = 200) => Results.Text(node.ToJsonString(), "application/json", statusCode: status);

    /// <summary>The query language, as far as the tests use it: "rule.id: is one of a,b" and "rule.id: a"; "(" must close.</summary>
    private static Func<JsonObject, bool> Filter(string? q)
    {
        q = q?.Trim() ?? "";
        if (q.Count(c => c == '(') != q.Count(c => c == ')'))
        {
            throw new FormatException(MalformedDetail);
        }

        if (!q.StartsWith("rule.id:", StringComparison.Ordinal))
        {
            return _ => true;
        }

        var ids = q["rule.id:".Length..].Replace("is one of", "", StringComparison.Ordinal)
            .Split([',', ' ', '(', ')'], StringSplitOptions.RemoveEmptyEntries).Where(s => s != "or").ToHashSet();
        return item => ids.Contains(item["rule"]!["id"]!.GetValue<string>());
    }

    private (string User, string Role, string Csrf)? Session(HttpContext context) =>
        context.Request.Cookies.TryGetValue("vigil_session", out var key) && _sessions.TryGetValue(key, out var session) ? session : null;

    private void Map()
    {
        var app = _app;
        app.Use(async (context, next) =>
        {
            context.Response.Headers.ContentSecurityPolicy = "default-src 'self'";
            if (context.Request.Method is "POST" or "PUT" or "DELETE" && context.Request.Path != "/api/login")
            {
                var session = Session(context);
                var header = context.Request.Headers["X-CSRF-Token"].ToString();
                var csrf = header.Length == 0 ? "missing" : session is { } s && s.Csrf == header ? "ok" : "wrong";
                StateChanges.Enqueue($"{context.Request.Method} {context.Request.Path} csrf={csrf}");
                if (session is null)
                {
                    await Problem(401, "log in first").ExecuteAsync(context);
                    return;
                }

                if (csrf != "ok")
                {
                    await Problem(403, "the X-CSRF-Token header is missing or wrong").ExecuteAsync(context);
                    return;
                }
            }
            else if (context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal) && context.Request.Path != "/api/login"
                && Session(context) is null)
            {
                await Problem(401, "log in first").ExecuteAsync(context);
                return;
            }

            await next(context);
        });

        app.MapGet("/", () => File("index.html"));
        app.MapGet("/login", () => File("login.html"));
        app.MapGet("/{name}", (string name) => File(name));

        app.MapPost("/api/login", async (HttpContext context) =>
        {
            var body = await JsonSerializer.DeserializeAsync<JsonObject>(context.Request.Body);
            var user = (string?)body?["username"];
            var password = (string?)body?["password"];
            if (user == RateLimitedUser)
            {
                context.Response.Headers.RetryAfter = "30";
                return Problem(429, "too many login attempts");
            }

            var role = (user, password) switch
            {
                ("admin", AdminPassword) => "admin",
                ("viewer", ViewerPassword) => "viewer",
                _ => null,
            };
            if (role is null)
            {
                return Problem(401, "wrong user name or password");
            }

            var key = Guid.NewGuid().ToString("N");
            var csrf = Guid.NewGuid().ToString("N");
            _sessions[key] = (user!, role, csrf);
            context.Response.Cookies.Append("vigil_session", key, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });
            context.Response.Cookies.Append("vigil_csrf", csrf, new CookieOptions { SameSite = SameSiteMode.Strict, Path = "/" });
            return Json(new JsonObject { ["username"] = user, ["role"] = role, ["csrfToken"] = csrf });
        });
        app.MapPost("/api/logout", (HttpContext context) =>
        {
            _sessions.TryRemove(context.Request.Cookies["vigil_session"]!, out _);
            return Results.NoContent();
        });
        app.MapGet("/api/me", (HttpContext context) =>
        {
            var s = Session(context)!.Value;
            return Json(new JsonObject { ["username"] = s.User, ["role"] = s.Role, ["csrfToken"] = s.Csrf });
        });

        app.MapGet("/api/alerts", (string? q) =>
        {
            Func<JsonObject, bool> filter;
            try
            {
                filter = Filter(q);
            }
            catch (FormatException e)
            {
                return Problem(400, e.Message);
            }

            lock (_gate)
            {
                var matching = _alerts.Where(filter).ToList();
                return Json(new JsonObject
                {
                    ["total"] = matching.Count,
                    ["alerts"] = new JsonArray([.. matching.Take(100).Select(a => a.DeepClone())]),
                });
            }
        });
        app.MapGet("/api/alerts/histogram", (string? q) =>
        {
            Func<JsonObject, bool> filter;
            try
            {
                filter = Filter(q);
            }
            catch (FormatException e)
            {
                return Problem(400, e.Message);
            }

            const int buckets = 60;
            var to = Time.GetUtcNow();
            var from = to.AddHours(-24);
            var interval = TimeSpan.FromHours(24) / buckets;
            var counts = new int[buckets];
            lock (_gate)
            {
                foreach (var alert in _alerts.Where(filter))
                {
                    var time = DateTimeOffset.ParseExact(alert["timestamp"]!.GetValue<string>(), "yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
                    var index = (int)((time - from) / interval);
                    if (index >= 0)
                    {
                        counts[Math.Min(index, buckets - 1)]++;
                    }
                }
            }

            return Json(new JsonObject
            {
                ["from"] = from.ToString("O", CultureInfo.InvariantCulture),
                ["intervalSeconds"] = (int)interval.TotalSeconds,
                ["buckets"] = new JsonArray([.. counts.Select((c, i) => new JsonObject
                {
                    ["start"] = (from + (interval * i)).ToString("O", CultureInfo.InvariantCulture),
                    ["count"] = c,
                })]),
            });
        });
        app.MapGet("/api/alerts/stream", async (HttpContext context, string? q) =>
        {
            var filter = Filter(q);
            var channel = Channel.CreateUnbounded<JsonObject>();
            lock (_gate)
            {
                _subscribers.Add(channel);
            }

            try
            {
                context.Response.ContentType = "text/event-stream";
                context.Response.Headers.CacheControl = "no-cache";
                await context.Response.WriteAsync(": open\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await foreach (var item in channel.Reader.ReadAllAsync(context.RequestAborted))
                {
                    if (filter(item))
                    {
                        await context.Response.WriteAsync($"event: alert\ndata: {item.ToJsonString()}\n\n", context.RequestAborted);
                        await context.Response.Body.FlushAsync(context.RequestAborted);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The page went away.
            }
            finally
            {
                lock (_gate)
                {
                    _subscribers.Remove(channel);
                }
            }
        });
        app.MapGet("/api/alerts/{id}", (string id) =>
        {
            lock (_gate)
            {
                var item = _alerts.FirstOrDefault(a => (string?)a["id"] == id);
                return item is null ? Problem(404, $"no alert {id}") : Json(item["alert"]!.DeepClone());
            }
        });
        app.MapGet("/api/chain", (string agent, string file) =>
        {
            lock (_gate)
            {
                var steps = new JsonArray();
                string? previous = null;
                foreach (var item in Enumerable.Reverse(_alerts).Where(a => (string?)a["file"] == file && (string?)a["agent"]!["id"] == agent))
                {
                    var id = item["id"]!.GetValue<string>();
                    steps.Add(new JsonObject
                    {
                        ["stage"] = Stage(item["rule"]!["id"]!.GetValue<string>()),
                        ["causedBy"] = previous,
                        ["alert"] = item.DeepClone(),
                    });
                    previous = id;
                }

                return Json(new JsonObject
                {
                    ["agentId"] = agent,
                    ["file"] = file,
                    ["steps"] = steps,
                    ["quarantine"] = new JsonArray([.. _quarantine.Where(q => (string?)q["path"] == file).Select(q => q.DeepClone())]),
                });
            }
        });

        app.MapGet("/api/quarantine", (string? state) =>
        {
            lock (_gate)
            {
                return Json(new JsonArray([.. _quarantine.Where(q => state is null || (string?)q["state"] == state).Select(q => q.DeepClone())]));
            }
        });
        app.MapPost("/api/quarantine/{agentId}/{id}/{action}", (HttpContext context, string agentId, string id, string action) =>
        {
            if (Session(context)!.Value.Role != "admin")
            {
                return Problem(403, "restoring and deleting need the admin role");
            }

            lock (_gate)
            {
                var item = _quarantine.FirstOrDefault(q => (string?)q["agentId"] == agentId && (string?)q["id"] == id);
                if (item is null || action is not ("restore" or "delete"))
                {
                    return Problem(404, $"no quarantined file {agentId}/{id}");
                }

                if ((string?)item["state"] != "quarantined")
                {
                    return Problem(409, $"{item["path"]} is {item["state"]}, not quarantined");
                }

                item["state"] = action == "restore" ? "restored" : "deleted";
                item["updatedAt"] = Timestamp(Time.GetUtcNow());
                if (action == "restore")
                {
                    item["restoredTo"] = item["path"]!.GetValue<string>();
                }

                return Json(item.DeepClone());
            }
        });

        app.MapGet("/api/agents", () => Json(new JsonArray(
            new JsonObject { ["id"] = "000", ["name"] = "vigil", ["address"] = "127.0.0.1", ["version"] = "1.0.0", ["status"] = "active", ["lastKeepAlive"] = Timestamp(Time.GetUtcNow()) },
            new JsonObject { ["id"] = "001", ["name"] = "web-01", ["address"] = "10.0.0.7", ["version"] = "1.0.0", ["status"] = "disconnected", ["lastKeepAlive"] = Timestamp(Time.GetUtcNow().AddHours(-3)) })));
        app.MapDelete("/api/agents/{id}", (HttpContext context, string id) =>
            Session(context)!.Value.Role != "admin" ? Problem(403, "removing agents needs the admin role") : Results.NoContent());
        app.MapGet("/api/intel", () => Json(new JsonArray(new JsonObject
        {
            ["name"] = "virustotal",
            ["enabled"] = true,
            ["minuteQuota"] = 4,
            ["minuteUsed"] = 1,
            ["dayQuota"] = 500,
            ["dayUsed"] = 12,
            ["queueLength"] = 2,
            ["cacheHits"] = 3,
            ["cacheMisses"] = 1,
            ["cacheHitRate"] = 0.75,
            ["waitingUntil"] = null,
        })));
    }

    private static IResult File(string name)
    {
        var stream = s_dashboard.GetManifestResourceStream("dashboard/" + name);
        if (stream is null)
        {
            return Results.NotFound();
        }

        var type = Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            _ => "application/octet-stream",
        };
        return Results.Stream(stream, type);
    }
}
