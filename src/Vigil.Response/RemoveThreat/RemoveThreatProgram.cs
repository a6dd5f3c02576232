using System.Text.Json;
using System.Text.Json.Nodes;
using Vigil.Response.Execd;
using Vigil.Response.Quarantine;

namespace Vigil.Response.RemoveThreat;

/// <summary>
/// <c>remove-threat</c> as an active-response program (Wazuh's stdin protocol, spec §5.4): one JSON line in;
/// for <c>add</c>, a <c>check_keys</c> line out with the file's path as the only key (so under a timeout execd
/// de-duplicates per file, not per script) and one <c>continue</c>/<c>abort</c> line back; then the removal and
/// one line in <c>active-responses.log</c> with the seed's phrases, so rules 657, 100092 and 100093 work
/// unchanged: <c>&lt;date&gt; &lt;program&gt;: &lt;input JSON&gt; Successfully removed threat …</c>.
/// </summary>
internal sealed class RemoveThreatProgram(ThreatRemover remover, ActiveResponseLog log, RemoveThreatOptions options)
{
    public const string DefaultProgramName = "active-response/bin/remove-threat";

    public const string SuccessPhrase = "Successfully removed threat";
    public const string ErrorPhrase = "Error removing threat";
    public const string AbortedPhrase = "Remove threat active response aborted";

    private static readonly JsonSerializerOptions s_json = ResponseJson.Options;

    /// <summary>Runs the exchange over <paramref name="input"/>/<paramref name="output"/>; returns 0 unless the removal failed.</summary>
    public async Task<int> RunAsync(TextReader input, TextWriter output, CancellationToken cancellationToken)
    {
        var line = await input.ReadLineAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(line))
        {
            await log.WriteAsync(DefaultProgramName, $"{ErrorPhrase}: no input message on stdin", cancellationToken);
            return 1;
        }

        try
        {
            return await ExchangeAsync(line, input, output, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Whatever the input holds, the outcome is one log line (so rule 657's error path sees it), never a crash.
            var reason = Core.Events.EventText.Scrub(ex.Message).ReplaceLineEndings(" ");
            await log.WriteAsync(DefaultProgramName, $"{Core.Events.EventText.Scrub(line)} {ErrorPhrase}: the input could not be handled ({ex.GetType().Name}: {reason})", cancellationToken);
            return 1;
        }
    }

    private async Task<int> ExchangeAsync(string line, TextReader input, TextWriter output, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            await log.WriteAsync(DefaultProgramName, $"{line} {ErrorPhrase}: the input is not JSON ({ex.Message})", cancellationToken);
            return 1;
        }

        using (document)
        {
            var root = document.RootElement;
            var program = ProgramName(root);
            var command = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("command", out var c) && c.ValueKind == JsonValueKind.String
                ? c.GetString()
                : null;
            if (command == "delete")
            {
                return 0; // a timeout's undo: a removal has nothing to undo
            }

            if (command != "add")
            {
                await log.WriteAsync(program, $"{line} {ErrorPhrase}: unknown command {ResponseJson.Quote(command)}", cancellationToken);
                return 1;
            }

            var parameters = root.TryGetProperty("parameters", out var p) ? p : default;
            var alert = parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty("alert", out var a) ? a : default;
            var target = ThreatTarget.FromAlert(alert, out var error);
            if (target is null)
            {
                await log.WriteAsync(program, $"{line} {ErrorPhrase}: {error}", cancellationToken);
                return 1;
            }

            await output.WriteAsync(CheckKeys(target.Path) + "\n");
            await output.FlushAsync(cancellationToken);
            var reply = await input.ReadLineAsync(cancellationToken);
            if (ReplyCommand(reply) != "continue")
            {
                await log.WriteAsync(program, $"{line} {AbortedPhrase}", cancellationToken);
                return 0;
            }

            // The same response again (a host carrying out, after a crash, a response whose end it had not recorded):
            // its file was removed by the first run (a removal the crash cut short is finished now); its lines are
            // written once, as the first run would have, and never twice.
            if (await remover.PreviousRunAsync(target, cancellationToken) is { } previous)
            {
                await LogOutcomeAsync(program, line, target, Previous(previous), cancellationToken, alreadyLogged: await LoggedAsync(target.AlertId!, cancellationToken));
                return 0;
            }

            var result = await remover.RemoveAsync(target, Action(parameters), cancellationToken);
            if (result.IsRemoved)
            {
                CrashPoint.Reach(CrashPoint.RemovalRecorded);
            }

            await LogOutcomeAsync(program, line, target, result, cancellationToken);
            return result.IsError ? 1 : 0;
        }
    }

    // The outcome line and, for a quarantine, the record's line, in one write: a crash leaves both or neither. On a
    // second run, only those the log does not have yet.
    private async Task LogOutcomeAsync(
        string program, string line, ThreatTarget target, RemovalResult result, CancellationToken cancellationToken, (bool Outcome, bool Record) alreadyLogged = default)
    {
        var entries = new List<(string Argv0, string Message)>();
        if (!alreadyLogged.Outcome)
        {
            entries.Add((program, $"{line} {Describe(target.Path, result)}"));
        }

        if (result is { Outcome: RemovalOutcome.Quarantined, Record: { } record } && !alreadyLogged.Record)
        {
            // The quarantine record, for the manager's quarantine view and the file's detection chain (rule 200303).
            entries.Add(QuarantineAudit.Entry("quarantine", record, $"File quarantined {ResponseJson.Quote(target.Path)}"));
        }

        if (entries.Count > 0)
        {
            await log.WriteAsync(entries, cancellationToken);
        }
    }

    private static RemovalResult Previous(QuarantineRecord record) => record.Action == QuarantineAction.Delete
        ? new RemovalResult(RemovalOutcome.Deleted, $"deleted (record id {record.Id})", record)
        : new RemovalResult(RemovalOutcome.Quarantined, $"quarantined (id {record.Id})", record);

    // Whether the AR log has this alert's success line and its quarantine line (the alert id is unique: seconds and
    // the alert's offset).
    private async Task<(bool Outcome, bool Record)> LoggedAsync(string alertId, CancellationToken cancellationToken)
    {
        if (!File.Exists(log.FilePath))
        {
            return (false, false);
        }

        var quoted = ResponseJson.Quote(alertId);
        var outcome = false;
        var record = false;
        await foreach (var entry in File.ReadLinesAsync(log.FilePath, cancellationToken))
        {
            outcome |= entry.Contains(SuccessPhrase, StringComparison.Ordinal) && entry.Contains(quoted, StringComparison.Ordinal);
            record |= QuarantineAudit.IsEntryFor(entry, "quarantine", alertId);
        }

        return (outcome, record);
    }

    /// <summary>The check_keys line: the flagged path is the key.</summary>
    public static string CheckKeys(string path) =>
        new JsonObject
        {
            ["version"] = 1,
            ["origin"] = new JsonObject { ["name"] = "remove-threat", ["module"] = "active-response" },
            ["command"] = "check_keys",
            ["parameters"] = new JsonObject { ["keys"] = new JsonArray(path) },
        }.ToJsonString(s_json);

    /// <summary>The text after the input JSON in the log line. Paths are JSON-quoted so a newline in a name cannot break the line.</summary>
    public static string Describe(string path, RemovalResult result)
    {
        var quoted = ResponseJson.Quote(path);
        return result.Outcome switch
        {
            RemovalOutcome.Quarantined or RemovalOutcome.Deleted => $"{SuccessPhrase} {quoted}: {result.Message}",
            RemovalOutcome.AlreadyGone => $"Threat already gone {quoted}: {result.Message}",
            RemovalOutcome.AlreadyHandled => $"Threat already handled {quoted}: {result.Message}",
            RemovalOutcome.Exempt => $"Threat exempt {quoted}: {result.Message}",
            _ => $"{ErrorPhrase} {quoted}: {result.Message}",
        };
    }

    private QuarantineAction Action(JsonElement parameters)
    {
        if (parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty("extra_args", out var args) && args.ValueKind == JsonValueKind.Array)
        {
            foreach (var arg in args.EnumerateArray())
            {
                switch (arg.ValueKind == JsonValueKind.String ? arg.GetString() : null)
                {
                    case "delete":
                        return QuarantineAction.Delete;
                    case "quarantine":
                        return QuarantineAction.Quarantine;
                }
            }
        }

        return options.DefaultAction;
    }

    /// <summary>argv0 as Wazuh's execd passes it: the message's <c>parameters.program</c>.</summary>
    private static string ProgramName(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object
        && root.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object
        && parameters.TryGetProperty("program", out var program) && program.ValueKind == JsonValueKind.String
        && program.GetString() is { Length: > 0 } name && !name.Any(char.IsControl)
            ? name
            : DefaultProgramName;

    private static string? ReplyCommand(string? reply)
    {
        if (reply is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(reply);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("command", out var command) && command.ValueKind == JsonValueKind.String
                ? command.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
