using System.CommandLine;
using System.Globalization;
using Vigil.Core;
using Vigil.Intel;
using Vigil.Intel.VirusTotal;

namespace Vigil.Cli;

/// <summary>
/// `vigil vt check`: verifies the VirusTotal API key with one real request — the EICAR test file's report, so the
/// key travels only in the x-apikey header — and says what is known of the quota. Never prints the key.
/// Exit 0 accepted, 1 rejected, 4 unreachable (or an answer that is not VirusTotal's), 3 configuration errors.
/// </summary>
internal static class VtCommand
{
    public static void AddTo(RootCommand root)
    {
        var settings = new IntelSettings();
        var check = new Command("check", "Verify the VirusTotal API key with one request and show the quota left.");
        settings.AddTo(check);
        check.SetAction((parseResult, cancellationToken) => CheckAsync(
            settings, parseResult, TimeProvider.System, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error, cancellationToken));
        root.Subcommands.Add(new Command("vt", "VirusTotal tools.") { check });
    }

    public static async Task<int> CheckAsync(
        IntelSettings settings, ParseResult parseResult, TimeProvider timeProvider, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (await settings.LoadAsync(parseResult, "vt check", error) is not { } options)
        {
            return ExitCodes.ConfigError;
        }

        if (options.ApiKey.IsEmpty)
        {
            await error.WriteLineAsync($"vigil vt check: no API key: set <api_key> in the virustotal integration or the {WazuhDropIn.ApiKeyVariable} environment variable");
            return ExitCodes.ConfigError;
        }

        IntelStore store;
        HttpClient http;
        try
        {
            store = IntelStore.Open(IntelSettings.DatabasePath(settings.Paths.ResolveDataDir(parseResult)));
            http = VirusTotalClient.CreateHttpClient(options);
        }
        catch (VigilException ex)
        {
            await error.WriteLineAsync($"vigil vt check: {ex.Message}");
            return ExitCodes.IoError;
        }

        using (store)
        using (http)
        {
            var client = new VirusTotalClient(http, options);
            var quota = new QuotaGate(store, options, timeProvider);
            // The check is a real request: it is counted like any other, so `vigil run` and `vigil scan` see it.
            var outcome = await quota.SendAsync(() => client.GetFileReportAsync(Eicar.Sha256, cancellationToken));
            var (code, message) = outcome switch
            {
                LookupOutcome.Verdict => (ExitCodes.Success, $"the API key is accepted by {client.Peer}"),
                LookupOutcome.QuotaExceeded q => (ExitCodes.Success,
                    $"the API key is accepted by {client.Peer}, but its {(q.Kind == QuotaKind.Daily ? "daily" : q.Kind == QuotaKind.Minute ? "minute" : "minute, daily or monthly")} quota is spent"
                    + (q.RetryAfter is { } after ? $" (retry after {after.TotalSeconds:0} s)" : "")),
                LookupOutcome.Rejected r => (ExitCodes.Findings, $"the API key is rejected by {client.Peer}: {r.HttpStatus} {r.Code}".TrimEnd()),
                LookupOutcome.TimedOut t => (ExitCodes.IoError, $"VirusTotal is unreachable: {t.Detail}"),
                LookupOutcome.Transient t => (ExitCodes.IoError, t.HttpStatus == 0 ? $"VirusTotal is unreachable: {t.Detail}" : $"VirusTotal is unavailable: {t.Detail}"),
                LookupOutcome.Malformed m => (ExitCodes.IoError, $"unexpected answer: {m.Detail}"),
                _ => throw new InvalidOperationException($"unexpected outcome {outcome}"),
            };
            await (code == ExitCodes.Success ? output : error).WriteLineAsync($"vigil vt check: {message}");
            if (code != ExitCodes.IoError)
            {
                // VirusTotal's public API reports no quota in its answers; Vigil's own count is what it has.
                var now = timeProvider.GetUtcNow();
                var minute = store.RequestsSince(now.AddMinutes(-1).AddMilliseconds(1)).Count;
                var day = store.RequestsSince(new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero)).Count;
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"vigil vt check: quota left by Vigil's count (shared with vigil run and vigil scan): {Math.Max(0, options.RequestsPerMinute - minute)} of {options.RequestsPerMinute} this minute, {Math.Max(0, options.RequestsPerDay - day)} of {options.RequestsPerDay} today (UTC)"));
            }

            return code;
        }
    }
}
