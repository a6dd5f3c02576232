using System.Text.Json;
using Vigil.Core;
using Vigil.Core.Configuration;
using Vigil.Intel.Selection;

namespace Vigil.Intel.VirusTotal;

/// <summary>
/// <c>vigil integration virustotal &lt;alert_file&gt; &lt;api_key&gt; &lt;hook_url&gt; [debug] [options_file] [timeout] [retries]</c>:
/// integratord's argument contract, exit codes and output datagrams, with API v3, the verdict cache and the quota
/// shared across runs through one SQLite file. A lookup the quota defers stays queued and is answered by a later run.
/// </summary>
internal static class WazuhDropIn
{
    // integratord's exit codes for virustotal.py (spec §4.4).
    public const int Success = 0;
    public const int EmptyMessage = 1;
    public const int BadArguments = 2;
    public const int NoResponse = 4;
    public const int SocketError = 5;
    public const int AlertFileNotFound = 6;
    public const int InvalidJson = 7;

    public const string HomeVariable = "VIGIL_WAZUH_HOME";
    public const string SocketVariable = "VIGIL_QUEUE_SOCKET";
    public const string DatabaseVariable = "VIGIL_INTEL_DB";
    public const string ApiKeyVariable = "VIGIL_VT_API_KEY";

    /// <summary>Runs once. <paramref name="args"/> are integratord's arguments after the program name.</summary>
    public static async Task<int> RunAsync(
        IReadOnlyList<string> args, Func<string, string?> environment, TimeProvider timeProvider, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Count < 3)
        {
            await error.WriteLineAsync("# Error: Wrong arguments");
            return BadArguments;
        }

        var isDebug = args.Count > 3 && args[3] == "debug";
        var home = environment(HomeVariable) is { Length: > 0 } h ? h : "/var/ossec";
        var socketPath = environment(SocketVariable) is { Length: > 0 } s ? s : Path.Combine(home, "queue", "sockets", "queue");
        var databasePath = environment(DatabaseVariable) is { Length: > 0 } d ? d : Path.Combine(home, "var", "vigil", "intel.db");
        // "-" reads the key from the environment, keeping it out of the process list.
        var apiKey = args[1] == "-" ? environment(ApiKeyVariable) ?? "" : args[1];

        string alertText;
        try
        {
            alertText = await File.ReadAllTextAsync(args[0], cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"# JSON file {args[0]} doesn't exist");
            return AlertFileNotFound;
        }

        try
        {
            using var document = JsonDocument.Parse(alertText);
            if (FileAlert.TryParse(document.RootElement) is null)
            {
                if (isDebug)
                {
                    await error.WriteLineAsync("# Exiting: no file hash in the alert");
                }

                return EmptyMessage;
            }

            // Wazuh's script looks up only an md5_after that is one md5, all lower-case or all upper-case hex.
            if (!IsWazuhMd5(document.RootElement))
            {
                if (isDebug)
                {
                    await error.WriteLineAsync("# md5_after field in the alert is not a md5 hash checksum");
                }

                return EmptyMessage;
            }
        }
        catch (JsonException ex)
        {
            await error.WriteLineAsync($"Failed getting json_alert {ex.Message}");
            return InvalidJson;
        }

        IntelOptions options;
        try
        {
            options = new IntelOptions
            {
                ApiKey = new Secret(apiKey),
                Timeout = TimeSpan.FromSeconds(LeadingInt(args, 5) ?? 10),
                Retries = LeadingInt(args, 6) ?? 3,
                // Leave Vigil's fields out by default: the datagrams stay exactly Wazuh's.
                ExtendedOutput = false,
                // integratord waits for this process: retry at once, as Wazuh's script does, instead of sleeping.
                InitialBackoff = TimeSpan.Zero,
            };
            if (args.Count > 4 && args[4].Length > 0)
            {
                options = options.WithJson(await File.ReadAllTextAsync(args[4], cancellationToken), args[4]);
            }
        }
        catch (Exception ex) when (ex is VigilException or IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"vigil integration virustotal: {ex.Message}");
            return BadArguments;
        }

        var sink = new QueueSocketSink(socketPath);
        try
        {
            // integratord already applied the <integration> filter; every alert it hands over is selected.
            var selector = new AlertSelector(new IntegrationOptions { Name = "virustotal" });
            await using var service = new IntelService(options, selector, sink, IntelStore.Open(databasePath), timeProvider, logger: null, http: null);
            var before = service.PendingCount;
            await service.OnAlertAsync(alertText, cancellationToken);
            var queued = service.PendingCount > before;
            var result = await service.RunUntilBlockedAsync(cancellationToken);
            if (isDebug)
            {
                await error.WriteLineAsync($"# Lookup queue: {service.PendingCount} pending, worker {result.Kind}");
            }

            // This alert's lookup is still waiting (quota, outage, rejected key): no VirusTotal response this run.
            return queued && result.Kind != StepKind.Idle ? NoResponse : Success;
        }
        catch (VigilException ex)
        {
            await error.WriteLineAsync($"vigil integration virustotal: {ex.Message}");
            return ex.Message.StartsWith("queue socket", StringComparison.Ordinal) ? SocketError : NoResponse;
        }
    }

    private static readonly System.Text.RegularExpressions.Regex s_md5 =
        new(@"\b([a-f\d]{32}|[A-F\d]{32})\b", System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>virustotal.py's test: syscheck.md5_after is a string holding exactly one md5 of a single case.</summary>
    internal static bool IsWazuhMd5(JsonElement alert) =>
        alert.ValueKind == JsonValueKind.Object
        && alert.TryGetProperty("syscheck", out var syscheck) && syscheck.ValueKind == JsonValueKind.Object
        && syscheck.TryGetProperty("md5_after", out var md5) && md5.ValueKind == JsonValueKind.String
        && s_md5.Matches(md5.GetString()!).Count == 1;

    /// <summary>The leading digits of an argument ("3 &gt; /dev/null 2&gt;&amp;1" reads as 3), or null.</summary>
    private static int? LeadingInt(IReadOnlyList<string> args, int index)
    {
        if (args.Count <= index)
        {
            return null;
        }

        var digits = new string(args[index].TrimStart().TakeWhile(char.IsAsciiDigit).ToArray());
        return int.TryParse(digits, out var value) ? value : null;
    }
}
