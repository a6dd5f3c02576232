using System.Net.Http.Headers;
using System.Text.Json;

namespace Vigil.Intel.VirusTotal;

/// <summary>An upload's or a poll's answer: the value, or the failure as the lookup outcome it amounts to.</summary>
internal readonly record struct Answer<T>(T? Value, LookupOutcome? Failure);

/// <summary>Where an analysis stands: <c>queued</c>, <c>in-progress</c> or <c>completed</c> (with its verdict).</summary>
internal sealed record AnalysisState(string Status, FileVerdict? Verdict);

internal sealed partial class VirusTotalClient
{
    /// <summary>The largest file <c>POST /api/v3/files</c> takes; larger ones go to an upload URL.</summary>
    public const long DirectUploadLimit = 32L * 1024 * 1024;

    /// <summary>VirusTotal's hard limit for any upload.</summary>
    public const long UploadLimit = 650L * 1024 * 1024;

    /// <summary><c>GET /api/v3/files/upload_url</c>: a single-use URL for a file over 32 MB.</summary>
    public async Task<Answer<Uri>> GetUploadUrlAsync(CancellationToken cancellationToken)
    {
        var (body, failure) = await SendAsync(HttpMethod.Get, new Uri(options.BaseUrl, "api/v3/files/upload_url"), null, options.Timeout, cancellationToken);
        if (failure is not null)
        {
            return new(null, failure);
        }

        return TryRead(body!, root => root.GetProperty("data").GetString()) is { } text && Uri.TryCreate(text, UriKind.Absolute, out var uri)
            ? new(uri, null)
            : new(null, new LookupOutcome.Malformed(200, $"malformed upload_url answer from {_peer}"));
    }

    /// <summary>
    /// Uploads <paramref name="content"/> (multipart, field <c>file</c>) to <c>POST /api/v3/files</c>, or to
    /// <paramref name="uploadUrl"/>; returns the analysis id.
    /// </summary>
    public async Task<Answer<string>> UploadAsync(Stream content, string fileName, Uri? uploadUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var form = new MultipartFormDataContent();
        var file = new StreamContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        // A minute per 8 MB on top of the usual timeout: an upload is bounded by the link, not by VirusTotal.
        var timeout = options.Timeout + TimeSpan.FromSeconds(content.Length / (8 * 1024 * 1024) * 60);
        var (body, failure) = await SendAsync(HttpMethod.Post, uploadUrl ?? new Uri(options.BaseUrl, "api/v3/files"), form, timeout, cancellationToken);
        if (failure is not null)
        {
            return new(null, failure);
        }

        return TryRead(body!, root => root.GetProperty("data").GetProperty("id").GetString()) is { Length: > 0 } id
            ? new(id, null)
            : new(null, new LookupOutcome.Malformed(200, $"malformed upload answer from {_peer}"));
    }

    /// <summary><c>GET /api/v3/analyses/{id}</c>; a completed analysis carries the verdict on <paramref name="hash"/>.</summary>
    public async Task<Answer<AnalysisState>> GetAnalysisAsync(string id, string hash, CancellationToken cancellationToken)
    {
        var (body, failure) = await SendAsync(HttpMethod.Get, new Uri(options.BaseUrl, $"api/v3/analyses/{Uri.EscapeDataString(id)}"), null, options.Timeout, cancellationToken);
        if (failure is not null)
        {
            return new(null, failure);
        }

        return TryParseAnalysis(hash, body!) is { } state
            ? new(state, null)
            : new(null, new LookupOutcome.Malformed(200, $"malformed analysis from {_peer}"));
    }

    internal static AnalysisState? TryParseAnalysis(string hash, byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var data = document.RootElement.GetProperty("data");
            var attributes = data.GetProperty("attributes");
            var status = String(attributes, "status");
            if (status is null)
            {
                return null;
            }

            if (status != "completed")
            {
                return new AnalysisState(status, null);
            }

            // An analysis has the file report's pieces under other names: stats, results, date; the hashes of what
            // was analysed are in meta.file_info.
            var info = document.RootElement.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object
                && meta.TryGetProperty("file_info", out var i) && i.ValueKind == JsonValueKind.Object ? i : default;
            var stats = attributes.TryGetProperty("stats", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
            var flagged = new List<string>();
            if (attributes.TryGetProperty("results", out var results) && results.ValueKind == JsonValueKind.Object)
            {
                foreach (var engine in results.EnumerateObject())
                {
                    if (engine.Value.ValueKind == JsonValueKind.Object && String(engine.Value, "category") == "malicious")
                    {
                        flagged.Add(String(engine.Value, "engine_name") ?? engine.Name);
                    }
                }
            }

            return new AnalysisState(status, new FileVerdict
            {
                IsFound = true,
                LookupHash = hash,
                Sha256 = info.ValueKind == JsonValueKind.Object ? String(info, "sha256") : null,
                Md5 = info.ValueKind == JsonValueKind.Object ? String(info, "md5") : null,
                Sha1 = info.ValueKind == JsonValueKind.Object ? String(info, "sha1") : null,
                LastAnalysisDate = attributes.TryGetProperty("date", out var date) && date.TryGetInt64(out var unix) ? unix : null,
                Malicious = Count(stats, "malicious"),
                Suspicious = Count(stats, "suspicious"),
                Undetected = Count(stats, "undetected"),
                Harmless = Count(stats, "harmless"),
                FlaggedBy = flagged,
            });
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return null;
        }
    }

    private static string? TryRead(byte[] body, Func<JsonElement, string?> read)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return read(document.RootElement);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return null;
        }
    }

    /// <summary>One request with the key in its header; a 200 body, or the failure as a lookup outcome.</summary>
    private async Task<(byte[]? Body, LookupOutcome? Failure)> SendAsync(HttpMethod method, Uri uri, HttpContent? content, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri) { Content = content };
        request.Headers.Add("x-apikey", options.ApiKey.Reveal());
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cancel.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            var body = await response.Content.ReadAsByteArrayAsync(cancel.Token);
            var status = (int)response.StatusCode;
            return status == 200 ? (body, null) : (null, Interpret("", status, response.Headers.RetryAfter, body) switch
            {
                // A 404 here is not "unknown file": the analysis or the upload URL is gone.
                LookupOutcome.Verdict => new LookupOutcome.Malformed(status, $"{_peer} answered {status}"),
                var other => other,
            });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, new LookupOutcome.TimedOut($"no answer from {_peer} within {timeout.TotalSeconds:0.###} s"));
        }
        catch (HttpRequestException ex)
        {
            return (null, new LookupOutcome.Transient(0, $"{_peer}: {ex.Message}"));
        }
    }
}
