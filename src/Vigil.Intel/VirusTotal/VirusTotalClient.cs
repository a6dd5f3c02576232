using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Vigil.Core;

namespace Vigil.Intel.VirusTotal;

/// <summary>
/// VirusTotal API v3 file reports over one <see cref="HttpClient"/>. The key travels only in the
/// <c>x-apikey</c> header (v2 put it in the query string, where proxies and logs keep it).
/// </summary>
internal sealed partial class VirusTotalClient(HttpClient http, IntelOptions options)
{
    private readonly string _peer = options.BaseUrl.GetLeftPart(UriPartial.Authority);

    /// <summary>The endpoint, for messages: scheme, host and port only.</summary>
    public string Peer => _peer;

    /// <summary>An HTTP client with real TLS; trusts the system roots plus, when configured, exactly one pinned certificate.</summary>
    public static HttpClient CreateHttpClient(IntelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = options.Timeout,
        };
        if (options.TrustedCertificate is { } path)
        {
            X509Certificate2 pinned;
            try
            {
                pinned = X509CertificateLoader.LoadCertificateFromFile(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new VigilException($"trusted_certificate {path}: {ex.Message}");
            }

            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(pinned, certificate, errors) };
        }

        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Accepts what the system trusts, or a certificate byte-identical to the pinned one.</summary>
    public static bool IsTrusted(X509Certificate2 pinned, X509Certificate? presented, SslPolicyErrors errors) =>
        errors == SslPolicyErrors.None
        || (presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(pinned.RawData));

    public async Task<LookupOutcome> GetFileReportAsync(string hash, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(options.BaseUrl, $"api/v3/files/{hash}"));
        request.Headers.Add("x-apikey", options.ApiKey.Reveal());
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Network timeouts run on the real clock: they measure the peer, not Vigil's schedule.
        timeout.CancelAfter(options.Timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            return Interpret(hash, (int)response.StatusCode, response.Headers.RetryAfter, body);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new LookupOutcome.TimedOut($"no answer from {_peer} within {options.Timeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException ex)
        {
            // Connection refused, DNS, TLS: the message names the peer, never the request headers.
            return new LookupOutcome.Transient(0, $"{_peer}: {ex.Message}");
        }
    }

    internal LookupOutcome Interpret(string hash, int status, RetryConditionHeaderValue? retryAfter, byte[] body)
    {
        switch (status)
        {
            case 200:
                return TryParseReport(hash, body, out var verdict)
                    ? new LookupOutcome.Verdict(verdict)
                    : new LookupOutcome.Malformed(status, $"malformed file report from {_peer}");
            case 404:
                return new LookupOutcome.Verdict(FileVerdict.NotFound(hash));
            case 429:
                return new LookupOutcome.QuotaExceeded(ClassifyQuota(ReadError(body).Message), RetryAfterOf(retryAfter));
            case 401 or 403:
                return new LookupOutcome.Rejected(status, ReadError(body).Code ?? "");
            case >= 500:
                return new LookupOutcome.Transient(status, $"{_peer} answered {status} {ReadError(body).Code}".TrimEnd());
            default:
                return new LookupOutcome.Malformed(status, $"{_peer} answered {status} {ReadError(body).Code}".TrimEnd());
        }
    }

    /// <summary>
    /// VirusTotal's QuotaExceededError message usually names every quota at once ("minute, daily or monthly");
    /// only a message naming one of them decides here.
    /// </summary>
    internal static QuotaKind ClassifyQuota(string? message)
    {
        if (message is null)
        {
            return QuotaKind.Unknown;
        }

        var daily = message.Contains("daily", StringComparison.OrdinalIgnoreCase) || message.Contains("monthly", StringComparison.OrdinalIgnoreCase);
        var minute = message.Contains("minute", StringComparison.OrdinalIgnoreCase);
        return (daily, minute) switch
        {
            (true, false) => QuotaKind.Daily,
            (false, true) => QuotaKind.Minute,
            _ => QuotaKind.Unknown,
        };
    }

    private static TimeSpan? RetryAfterOf(RetryConditionHeaderValue? header)
    {
        // Delta form only: the date form would need the peer's clock to agree with ours.
        if (header?.Delta is { } delta && delta > TimeSpan.Zero)
        {
            // Clamp odd values: a day is the longest any VirusTotal quota lasts.
            return delta > TimeSpan.FromDays(1) ? TimeSpan.FromDays(1) : delta;
        }

        return null;
    }

    private static (string? Code, string? Message) ReadError(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                return (String(error, "code"), String(error, "message"));
            }
        }
        catch (JsonException)
        {
        }

        return (null, null);
    }

    internal static bool TryParseReport(string hash, ReadOnlySpan<byte> body, out FileVerdict verdict)
    {
        verdict = FileVerdict.NotFound(hash);
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object
                || !data.TryGetProperty("attributes", out var attributes) || attributes.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            var stats = attributes.TryGetProperty("last_analysis_stats", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
            var flagged = new List<string>();
            if (attributes.TryGetProperty("last_analysis_results", out var results) && results.ValueKind == JsonValueKind.Object)
            {
                foreach (var engine in results.EnumerateObject())
                {
                    if (engine.Value.ValueKind == JsonValueKind.Object && String(engine.Value, "category") == "malicious")
                    {
                        flagged.Add(String(engine.Value, "engine_name") ?? engine.Name);
                    }
                }
            }

            string? label = null, category = null;
            if (attributes.TryGetProperty("popular_threat_classification", out var classification) && classification.ValueKind == JsonValueKind.Object)
            {
                label = String(classification, "suggested_threat_label");
                if (classification.TryGetProperty("popular_threat_category", out var categories) && categories.ValueKind == JsonValueKind.Array)
                {
                    category = categories.EnumerateArray().Select(c => c.ValueKind == JsonValueKind.Object ? String(c, "value") : null).FirstOrDefault(v => v is not null);
                }
            }

            verdict = new FileVerdict
            {
                IsFound = true,
                LookupHash = hash,
                Sha256 = String(attributes, "sha256") ?? String(data, "id"),
                Md5 = String(attributes, "md5"),
                Sha1 = String(attributes, "sha1"),
                LastAnalysisDate = attributes.TryGetProperty("last_analysis_date", out var date) && date.TryGetInt64(out var unix) ? unix : null,
                Malicious = Count(stats, "malicious"),
                Suspicious = Count(stats, "suspicious"),
                Undetected = Count(stats, "undetected"),
                Harmless = Count(stats, "harmless"),
                SuggestedThreatLabel = label,
                PopularThreatCategory = category,
                FlaggedBy = flagged,
            };
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }

    private static int Count(JsonElement stats, string name) =>
        stats.ValueKind == JsonValueKind.Object && stats.TryGetProperty(name, out var value) && value.TryGetInt32(out var n) ? n : 0;

    private static string? String(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
