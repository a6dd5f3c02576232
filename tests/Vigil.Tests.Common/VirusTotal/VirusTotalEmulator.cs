using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Vigil.Tests.Common.VirusTotal;

/// <summary>What the emulator does to the next lookup instead of answering it.</summary>
public enum EmulatorFault
{
    /// <summary>503 TransientError.</summary>
    Transient503,

    /// <summary>504 DeadlineExceededError.</summary>
    Deadline504,

    /// <summary>Never answers (until the client gives up).</summary>
    Hang,

    /// <summary>200 with a truncated JSON body.</summary>
    Malformed,

    /// <summary>429 QuotaExceededError.</summary>
    Quota429,
}

/// <summary>One request the emulator received.</summary>
public sealed record RecordedRequest(DateTimeOffset At, string? ApiKey, string Method, string Path, int Status);

/// <summary>
/// A VirusTotal API v3 emulator: a real HTTPS server (Kestrel) on 127.0.0.1 with a self-signed certificate made
/// at start, speaking v3's wire format: file reports (JSON:API) from fixtures, 404 NotFoundError, x-apikey checks,
/// per-key minute and daily quotas with the real 429 QuotaExceededError, uploads and analyses, injectable latency,
/// 5xx, hangs and malformed bodies. It counts what it receives so tests can assert on it.
/// </summary>
public sealed class VirusTotalEmulator : IAsyncDisposable
{
    public const string QuotaMessage =
        "You have exceeded one of your quotas (minute, daily or monthly). Daily quotas are reset every day at 00:00 UTC.";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, EmulatedFile> _files = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<EmulatorFault> _faults = new();
    private readonly ConcurrentDictionary<string, Analysis> _analyses = new();
    private readonly ConcurrentDictionary<string, EmulatedFile> _verdictsOnUpload = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<RecordedRequest> _requests = [];
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private int _lookups;

    private VirusTotalEmulator(WebApplication app, X509Certificate2 certificate, TimeProvider time)
    {
        _app = app;
        Certificate = certificate;
        _time = time;
    }

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The server's certificate (public part); a client trusts exactly this.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Keys that are accepted. Default: "test-key".</summary>
    public ConcurrentDictionary<string, bool> ApiKeys { get; } = new(StringComparer.Ordinal) { ["test-key"] = true };

    /// <summary>Requests a key may make in any 60-second window; null for no limit.</summary>
    public int? MinuteQuota { get; set; }

    /// <summary>Requests a key may make per UTC day; null for no limit.</summary>
    public int? DailyQuota { get; set; }

    /// <summary>Added to every answer, on the real clock.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>A fault applied to every lookup while set (after the queued ones).</summary>
    public EmulatorFault? PersistentFault { get; set; }

    /// <summary>The Retry-After header sent with 429s (VirusTotal itself sends none).</summary>
    public TimeSpan? RetryAfter { get; set; }

    /// <summary>
    /// Runs as each request arrives, before its time is taken: a test moves its clock here to stand for a request
    /// that took that long to reach VirusTotal (a busy host, a slow handshake).
    /// </summary>
    public Action? OnArrival { get; set; }

    public static async Task<VirusTotalEmulator> StartAsync(TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        var certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 700L * 1024 * 1024;
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
        });
        var app = builder.Build();
        var emulator = new VirusTotalEmulator(app, X509CertificateLoader.LoadCertificate(certificate.RawData), time ?? TimeProvider.System);
        app.Run(emulator.HandleAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseUrl = new Uri(address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal) + "/");
        return emulator;
    }

    /// <summary>Writes the certificate as PEM (for a client's trusted_certificate option).</summary>
    public string WriteCertificatePem(string path)
    {
        File.WriteAllText(path, Certificate.ExportCertificatePem());
        return path;
    }

    public VirusTotalEmulator Add(EmulatedFile file)
    {
        _files[file.Sha256] = file;
        _files[file.Md5] = file;
        _files[file.Sha1] = file;
        return this;
    }

    /// <summary>A file unknown to lookups (404) until it is uploaded; its analysis then gives these verdicts.</summary>
    public VirusTotalEmulator AddOnUpload(EmulatedFile file)
    {
        _verdictsOnUpload[file.Sha256] = file;
        return this;
    }

    /// <summary>Uploads received (POST /api/v3/files or to an upload URL), accepted or not.</summary>
    public int UploadCount => Requests.Count(r => r.Method == "POST");

    public void EnqueueFault(EmulatorFault fault, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            _faults.Enqueue(fault);
        }
    }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>File-report requests received (any status, counted on arrival, so hung ones count too).</summary>
    public int LookupCount => Volatile.Read(ref _lookups);

    /// <summary>The most requests one key made in any 60-second window.</summary>
    public int MaxRequestsInAnyMinute(string apiKey)
    {
        var times = Requests.Where(r => r.ApiKey == apiKey).Select(r => r.At).OrderBy(t => t).ToList();
        var max = 0;
        for (int i = 0, j = 0; i < times.Count; i++)
        {
            while (times[i] - times[j] >= TimeSpan.FromMinutes(1))
            {
                j++;
            }

            max = Math.Max(max, i - j + 1);
        }

        return max;
    }

    /// <summary>The most requests one key made on any UTC day.</summary>
    public int MaxRequestsInAnyDay(string apiKey) =>
        Requests.Where(r => r.ApiKey == apiKey).GroupBy(r => r.At.UtcDateTime.Date).Select(g => g.Count()).DefaultIfEmpty(0).Max();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Certificate.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var key = request.Headers.TryGetValue("x-apikey", out var values) ? values.ToString() : null;
        OnArrival?.Invoke();
        var arrived = _time.GetUtcNow();
        var path = request.Path.Value ?? "";
        if (request.Method == "GET" && path.StartsWith("/api/v3/files/", StringComparison.Ordinal) && path != "/api/v3/files/upload_url")
        {
            Interlocked.Increment(ref _lookups);
        }

        var status = await AnswerAsync(context, key);
        lock (_lock)
        {
            _requests.Add(new RecordedRequest(arrived, key, request.Method, path, status));
        }
    }

    private async Task<int> AnswerAsync(HttpContext context, string? key)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        if (Latency > TimeSpan.Zero)
        {
            await Task.Delay(Latency, context.RequestAborted);
        }

        if (key is null)
        {
            return await ErrorAsync(context, 401, "AuthenticationRequiredError", "X-Apikey header is missing");
        }

        if (!ApiKeys.ContainsKey(key))
        {
            return await ErrorAsync(context, 401, "WrongCredentialsError", "Wrong API key");
        }

        if (IsOverQuota(key))
        {
            return await QuotaAsync(context);
        }

        EmulatorFault? fault = _faults.TryDequeue(out var queued) ? queued : PersistentFault;
        if (fault is { } active)
        {
            switch (active)
            {
                case EmulatorFault.Transient503:
                    return await ErrorAsync(context, 503, "TransientError", "Please retry your request later");
                case EmulatorFault.Deadline504:
                    return await ErrorAsync(context, 504, "DeadlineExceededError", "The request took too long");
                case EmulatorFault.Quota429:
                    return await QuotaAsync(context);
                case EmulatorFault.Hang:
                    try
                    {
                        await Task.Delay(Timeout.Infinite, context.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    return 499;
                case EmulatorFault.Malformed:
                    context.Response.StatusCode = 200;
                    context.Response.ContentType = "application/json";
                    await context.Response.WriteAsync("{\"data\": {\"id\": \"", context.RequestAborted);
                    return 200;
            }
        }

        if (request.Method == "GET" && path == "/api/v3/files/upload_url")
        {
            var token = Guid.NewGuid().ToString("N");
            return await JsonAsync(context, 200, new JsonObject { ["data"] = new Uri(BaseUrl, $"_ah/upload/{token}").ToString() });
        }

        if (request.Method == "GET" && path.StartsWith("/api/v3/files/", StringComparison.Ordinal))
        {
            var id = path["/api/v3/files/".Length..];
            return _files.TryGetValue(id, out var file)
                ? await JsonAsync(context, 200, Report(file))
                : await ErrorAsync(context, 404, "NotFoundError", $"File \"{id}\" not found");
        }

        if (request.Method == "POST" && (path == "/api/v3/files" || path.StartsWith("/_ah/upload/", StringComparison.Ordinal)))
        {
            return await UploadAsync(context, path == "/api/v3/files" ? 32L * 1024 * 1024 : 650L * 1024 * 1024);
        }

        if (request.Method == "GET" && path.StartsWith("/api/v3/analyses/", StringComparison.Ordinal))
        {
            var id = path["/api/v3/analyses/".Length..];
            if (!_analyses.TryGetValue(id, out var analysis))
            {
                return await ErrorAsync(context, 404, "NotFoundError", $"Analysis \"{id}\" not found");
            }

            // The first poll finds it queued, the next ones completed.
            var completed = Interlocked.Increment(ref analysis.Polls) > 1;
            var stats = completed ? Stats(analysis.File) : Stats(analysis.File with { Malicious = 0, Undetected = 0, Suspicious = 0, Harmless = 0, TypeUnsupported = 0 });
            return await JsonAsync(context, 200, new JsonObject
            {
                ["data"] = new JsonObject
                {
                    ["id"] = id,
                    ["type"] = "analysis",
                    ["links"] = new JsonObject { ["self"] = new Uri(BaseUrl, $"api/v3/analyses/{id}").ToString() },
                    ["attributes"] = new JsonObject
                    {
                        ["status"] = completed ? "completed" : "queued",
                        ["date"] = _time.GetUtcNow().ToUnixTimeSeconds(),
                        ["stats"] = stats,
                        ["results"] = completed ? Results(analysis.File) : new JsonObject(),
                    },
                },
                ["meta"] = new JsonObject
                {
                    ["file_info"] = new JsonObject
                    {
                        ["sha256"] = analysis.File.Sha256,
                        ["sha1"] = analysis.File.Sha1,
                        ["md5"] = analysis.File.Md5,
                        ["size"] = analysis.File.Size,
                    },
                },
            });
        }

        return await ErrorAsync(context, 404, "NotFoundError", $"Resource \"{path}\" not found");
    }

    private async Task<int> UploadAsync(HttpContext context, long limit)
    {
        if (!context.Request.HasFormContentType)
        {
            return await ErrorAsync(context, 400, "BadRequestError", "Expected a multipart form with a file field");
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var upload = form.Files["file"];
        if (upload is null)
        {
            return await ErrorAsync(context, 400, "BadRequestError", "Missing file field");
        }

        if (upload.Length > limit)
        {
            return await ErrorAsync(context, 413, "BadRequestError", "File too large");
        }

        using var buffer = new MemoryStream();
        await upload.CopyToAsync(buffer, context.RequestAborted);
        var content = buffer.ToArray();
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        // A known file keeps its verdicts; an unknown one is found clean by every engine.
        var file = _files.TryGetValue(sha256, out var known) ? known
            : _verdictsOnUpload.TryGetValue(sha256, out var planned) ? planned with { LastAnalysisDate = _time.GetUtcNow().ToUnixTimeSeconds() }
            : EmulatedFile.For(content, 0, 60) with { LastAnalysisDate = _time.GetUtcNow().ToUnixTimeSeconds() };
        Add(file);
        var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{file.Md5}:{_time.GetUtcNow().ToUnixTimeSeconds()}"));
        _analyses[id] = new Analysis(file);
        return await JsonAsync(context, 200, new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["type"] = "analysis",
                ["id"] = id,
                ["links"] = new JsonObject { ["self"] = new Uri(BaseUrl, $"api/v3/analyses/{id}").ToString() },
            },
        });
    }

    private bool IsOverQuota(string key)
    {
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            // Only answered requests count; refusals do not consume quota.
            var mine = _requests.Where(r => r.ApiKey == key && r.Status != 429 && r.Status != 401).ToList();
            if (MinuteQuota is { } perMinute && mine.Count(r => now - r.At < TimeSpan.FromMinutes(1)) >= perMinute)
            {
                return true;
            }

            return DailyQuota is { } perDay && mine.Count(r => r.At.UtcDateTime.Date == now.UtcDateTime.Date) >= perDay;
        }
    }

    private Task<int> QuotaAsync(HttpContext context)
    {
        if (RetryAfter is { } after)
        {
            context.Response.Headers.RetryAfter = ((int)after.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return ErrorAsync(context, 429, "QuotaExceededError", QuotaMessage);
    }

    private static Task<int> ErrorAsync(HttpContext context, int status, string code, string message) =>
        JsonAsync(context, status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    private static async Task<int> JsonAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), context.RequestAborted);
        return status;
    }

    private static JsonObject Report(EmulatedFile file) => new()
    {
        ["data"] = new JsonObject
        {
            ["id"] = file.Sha256,
            ["type"] = "file",
            ["links"] = new JsonObject { ["self"] = $"https://www.virustotal.com/api/v3/files/{file.Sha256}" },
            ["attributes"] = new JsonObject
            {
                ["type_description"] = "Text",
                ["meaningful_name"] = "sample.txt",
                ["names"] = new JsonArray("sample.txt"),
                ["size"] = file.Size,
                ["md5"] = file.Md5,
                ["sha1"] = file.Sha1,
                ["sha256"] = file.Sha256,
                ["first_submission_date"] = file.LastAnalysisDate - 86_400,
                ["last_submission_date"] = file.LastAnalysisDate,
                ["last_analysis_date"] = file.LastAnalysisDate,
                ["last_modification_date"] = file.LastAnalysisDate,
                ["reputation"] = file.Malicious > 0 ? -100 : 0,
                ["tags"] = new JsonArray("text"),
                ["total_votes"] = new JsonObject { ["harmless"] = 0, ["malicious"] = file.Malicious > 0 ? 5 : 0 },
                ["last_analysis_stats"] = Stats(file),
                ["last_analysis_results"] = Results(file),
                ["popular_threat_classification"] = file.SuggestedThreatLabel is null ? null : new JsonObject
                {
                    ["suggested_threat_label"] = file.SuggestedThreatLabel,
                    ["popular_threat_category"] = new JsonArray(new JsonObject { ["count"] = file.Malicious, ["value"] = file.ThreatCategory ?? "trojan" }),
                    ["popular_threat_name"] = new JsonArray(new JsonObject { ["count"] = file.Malicious, ["value"] = file.SuggestedThreatLabel.Split('/')[^1] }),
                },
            },
        },
    };

    private static JsonObject Stats(EmulatedFile file) => new()
    {
        ["harmless"] = file.Harmless,
        ["type-unsupported"] = file.TypeUnsupported,
        ["suspicious"] = file.Suspicious,
        ["confirmed-timeout"] = 0,
        ["timeout"] = 0,
        ["failure"] = 0,
        ["malicious"] = file.Malicious,
        ["undetected"] = file.Undetected,
    };

    private static JsonObject Results(EmulatedFile file)
    {
        var results = new JsonObject();
        var categories = Enumerable.Repeat("malicious", file.Malicious)
            .Concat(Enumerable.Repeat("suspicious", file.Suspicious))
            .Concat(Enumerable.Repeat("undetected", file.Undetected))
            .Concat(Enumerable.Repeat("harmless", file.Harmless))
            .Concat(Enumerable.Repeat("type-unsupported", file.TypeUnsupported));
        var i = 0;
        foreach (var category in categories)
        {
            var name = i < EmulatedFile.Engines.Count ? EmulatedFile.Engines[i] : $"Engine{i:D3}";
            results[name] = new JsonObject
            {
                ["method"] = "blacklist",
                ["engine_name"] = name,
                ["engine_version"] = "1.0.0",
                ["engine_update"] = "20240101",
                ["category"] = category,
                ["result"] = category is "malicious" or "suspicious" ? file.SuggestedThreatLabel ?? "Malware.Generic" : null,
            };
            i++;
        }

        return results;
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=virustotal-emulator", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.FromUnixTimeSeconds(TimeProvider.System.GetUtcNow().ToUnixTimeSeconds());
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    private sealed class Analysis(EmulatedFile file)
    {
        public int Polls;

        public EmulatedFile File { get; } = file;
    }
}
