using System.Text.Json;
using Vigil.Core;
using Vigil.Core.Configuration;

namespace Vigil.Intel;

/// <summary>
/// Vigil's intelligence settings: the <c>&lt;integration&gt;</c> block plus its <c>&lt;options&gt;</c> JSON object
/// (Wazuh hands that object to the script and its script ignores it). Every key is optional; see docs/virustotal.md.
/// </summary>
internal sealed record IntelOptions
{
    public static readonly Uri DefaultBaseUrl = new("https://www.virustotal.com");

    public Secret ApiKey { get; init; } = new("");

    public Uri BaseUrl { get; init; } = DefaultBaseUrl;

    /// <summary>A file is malicious (rule 87105) when at least this many engines say so; Wazuh's value is 1.</summary>
    public int MinPositives { get; init; } = 1;

    /// <summary>Our own pacing; the public API allows 4 a minute and 500 a day.</summary>
    public int RequestsPerMinute { get; init; } = 4;

    public int RequestsPerDay { get; init; } = 500;

    public TimeSpan MaliciousLifetime { get; init; } = TimeSpan.FromDays(30);

    public TimeSpan CleanLifetime { get; init; } = TimeSpan.FromDays(1);

    public TimeSpan UnknownLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>One HTTP attempt; integratord's <c>timeout</c>.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>integratord's <c>retries</c>: failures in a row before an outage is reported (lookups go on being retried).</summary>
    public int Retries { get; init; } = 3;

    /// <summary>First wait after a transient failure; doubles up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Upload unknown files (they become public on VirusTotal): off unless the operator opts in.</summary>
    public bool Upload { get; init; }

    /// <summary>Hash-list files checked before VirusTotal (one hash a line, or CSV with a sha256 column).</summary>
    public IReadOnlyList<string> HashLists { get; init; } = [];

    /// <summary>Whether the built-in list (EICAR) is checked.</summary>
    public bool BuiltinList { get; init; } = true;

    /// <summary>Add Vigil's fields (sha256, suspicious, flagged_by, cached, http_status, the error's agent and
    /// file…) to the messages; the drop-in leaves them out by default so its datagrams stay Wazuh's.</summary>
    public bool ExtendedOutput { get; init; } = true;

    /// <summary>A PEM certificate the client trusts for the VirusTotal endpoint in addition to the system's roots
    /// (an emulator or a TLS-inspecting proxy); exactly this certificate, not a CA.</summary>
    public string? TrustedCertificate { get; init; }

    /// <summary>Builds the settings from an <c>&lt;integration&gt;</c> block; collects every problem in the options.</summary>
    public static IntelOptions FromIntegration(IntegrationOptions integration)
    {
        ArgumentNullException.ThrowIfNull(integration);
        var options = new IntelOptions
        {
            ApiKey = integration.ApiKey,
            Timeout = TimeSpan.FromSeconds(Math.Max(1, integration.TimeoutSeconds)),
            Retries = Math.Max(0, integration.Retries),

            // With a key, the EICAR test file goes to VirusTotal as in the seed's test (87105); without one the
            // built-in list stands in for it (200100). "builtin_list" in <options> overrides either way.
            BuiltinList = integration.ApiKey.IsEmpty,
        };
        return string.IsNullOrWhiteSpace(integration.Options) ? options : options.WithJson(integration.Options, integration.Source.ToString());
    }

    /// <summary>Applies an <c>&lt;options&gt;</c> JSON object; throws <see cref="VigilException"/> listing every bad key.</summary>
    public IntelOptions WithJson(string json, string origin)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new VigilException($"{Where(origin)}<options> is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new VigilException($"{Where(origin)}<options> must be a JSON object");
            }

            var errors = new List<string>();
            var result = this;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var value = property.Value;
                switch (property.Name)
                {
                    case "min_positives":
                        result = result with { MinPositives = PositiveInt(property, errors) ?? MinPositives };
                        break;
                    case "requests_per_minute":
                        result = result with { RequestsPerMinute = PositiveInt(property, errors) ?? RequestsPerMinute };
                        break;
                    case "requests_per_day":
                        result = result with { RequestsPerDay = PositiveInt(property, errors) ?? RequestsPerDay };
                        break;
                    case "cache_malicious_seconds":
                        result = result with { MaliciousLifetime = Seconds(property, errors) ?? MaliciousLifetime };
                        break;
                    case "cache_clean_seconds":
                        result = result with { CleanLifetime = Seconds(property, errors) ?? CleanLifetime };
                        break;
                    case "cache_unknown_seconds":
                        result = result with { UnknownLifetime = Seconds(property, errors) ?? UnknownLifetime };
                        break;
                    case "base_url":
                        if (value.ValueKind == JsonValueKind.String && Uri.TryCreate(value.GetString(), UriKind.Absolute, out var uri)
                            && uri.Scheme is "https" or "http")
                        {
                            result = result with { BaseUrl = uri };
                        }
                        else
                        {
                            errors.Add("base_url must be an absolute http(s) URL");
                        }

                        break;
                    case "upload":
                        result = result with { Upload = Bool(property, errors) ?? Upload };
                        break;
                    case "builtin_list":
                        result = result with { BuiltinList = Bool(property, errors) ?? BuiltinList };
                        break;
                    case "extended_output":
                        result = result with { ExtendedOutput = Bool(property, errors) ?? ExtendedOutput };
                        break;
                    case "trusted_certificate":
                        if (value.ValueKind == JsonValueKind.String)
                        {
                            result = result with { TrustedCertificate = value.GetString() };
                        }
                        else
                        {
                            errors.Add("trusted_certificate must be a path");
                        }

                        break;
                    case "hash_lists":
                        if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
                        {
                            result = result with { HashLists = value.EnumerateArray().Select(e => e.GetString()!).ToArray() };
                        }
                        else
                        {
                            errors.Add("hash_lists must be an array of paths");
                        }

                        break;
                    default:
                        // Wazuh merges unknown keys into its script's output; Vigil ignores them so that an options
                        // object shared with other integrations does not break this one.
                        break;
                }
            }

            if (errors.Count > 0)
            {
                throw new VigilException($"{Where(origin)}<options>: {string.Join("; ", errors)}");
            }

            return result;
        }
    }

    private static string Where(string origin) => origin.Length > 0 ? origin + ": " : "";

    private static int? PositiveInt(JsonProperty property, List<string> errors)
    {
        if (property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetInt32(out var n) && n > 0)
        {
            return n;
        }

        errors.Add($"{property.Name} must be a positive integer");
        return null;
    }

    private static TimeSpan? Seconds(JsonProperty property, List<string> errors)
    {
        if (property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetInt64(out var n) && n >= 0)
        {
            return TimeSpan.FromSeconds(n);
        }

        errors.Add($"{property.Name} must be a number of seconds");
        return null;
    }

    private static bool? Bool(JsonProperty property, List<string> errors)
    {
        if (property.Value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return property.Value.GetBoolean();
        }

        errors.Add($"{property.Name} must be true or false");
        return null;
    }
}
