using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Vigil.Response.Execd;

/// <summary>
/// Vigil's execd: runs active-response programs with Wazuh's protocol (spec §5.4) — the rewritten JSON line on
/// stdin, one <c>check_keys</c> line read back, <c>continue</c>/<c>abort</c> from the timeout list, the stored
/// <c>delete</c> run when a timeout expires, <c>repeated_offenders</c>. Unlike Wazuh, runs are concurrent and
/// each has a time limit after which the program's process tree is killed, so one hung program blocks nothing.
/// A reply that is not a valid <c>check_keys</c> message is logged naming the program and answered
/// <c>abort</c>: a program that cannot speak the protocol must not be told to act.
/// </summary>
internal sealed partial class ExecDaemon(ExecdOptions options, ActiveResponseLog log, TimeProvider timeProvider)
{
    /// <summary>Where failures of execd's own loops are logged (the host's logger).</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>argv0 of execd's own lines in <c>active-responses.log</c>.</summary>
    public const string LogName = "vigil-execd";

    private static readonly JsonSerializerOptions s_json = ResponseJson.Options;

    private readonly ActiveResponseCatalog _catalog = new(options);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TimeoutEntry> _timeouts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _offences = new(StringComparer.Ordinal);

    /// <summary>How many delete runs are waiting for their timeout.</summary>
    public int PendingTimeouts
    {
        get
        {
            lock (_gate)
            {
                return _timeouts.Count;
            }
        }
    }

    /// <summary>
    /// Runs one AR message (spec §5.3 JSON) to completion. Safe to call concurrently; never throws for bad input
    /// or a misbehaving program — the outcome says what happened and it is logged.
    /// </summary>
    public async Task<ExecdResult> ExecuteAsync(string message, CancellationToken cancellationToken)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(message) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException ex)
        {
            await LogAsync($"invalid AR message ({ex.Message}): {message}", cancellationToken);
            return new ExecdResult(ExecdOutcome.InvalidMessage, Error: ex.Message);
        }

        if (root["command"] is not JsonValue commandValue || !commandValue.TryGetValue<string>(out var wireName))
        {
            await LogAsync($"invalid AR message (no command): {message}", cancellationToken);
            return new ExecdResult(ExecdOutcome.InvalidMessage, Error: "no command");
        }

        var command = _catalog.Resolve(wireName, out var error);
        if (command is null)
        {
            await LogAsync(error!, cancellationToken);
            var refused = error!.StartsWith("refused", StringComparison.Ordinal);
            return new ExecdResult(refused ? ExecdOutcome.Refused : ExecdOutcome.UnknownCommand, Error: error);
        }

        root["command"] = "add";
        if (root["origin"] is not JsonObject origin)
        {
            root["origin"] = origin = new JsonObject { ["name"] = "undefined" };
        }

        origin["module"] = "wazuh-execd";
        if (root["parameters"] is not JsonObject parameters)
        {
            root["parameters"] = parameters = new JsonObject { ["extra_args"] = new JsonArray() };
        }

        parameters["program"] = command.Program;
        return await RunAsync(command, root, exchangeKeys: true, cancellationToken);
    }

    /// <summary>Runs the delete entries whose timeout has expired; returns how many ran.</summary>
    public async Task<int> RunExpiredTimeoutsAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        List<TimeoutEntry> due;
        lock (_gate)
        {
            due = [.. _timeouts.Values.Where(e => e.ExpiresAt <= now)];
            foreach (var entry in due)
            {
                _timeouts.Remove(entry.RepeatKey);
            }
        }

        await Task.WhenAll(due.Select(e => RunAsync(e.Command, e.DeleteMessage, exchangeKeys: false, cancellationToken)));
        return due.Count;
    }

    /// <summary>Runs every pending delete now, as Wazuh does on shutdown.</summary>
    public async Task RunPendingDeletesAsync(CancellationToken cancellationToken)
    {
        List<TimeoutEntry> all;
        lock (_gate)
        {
            all = [.. _timeouts.Values];
            _timeouts.Clear();
        }

        await Task.WhenAll(all.Select(e => RunAsync(e.Command, e.DeleteMessage, exchangeKeys: false, cancellationToken)));
    }

    /// <summary>Looks for expired timeouts every <see cref="ExecdOptions.TimeoutPollInterval"/> until stopped, then runs the pending deletes.</summary>
    public async Task RunTimeoutLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.TimeoutPollInterval, timeProvider, stoppingToken);
                await RunExpiredTimeoutsAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // One timed-out response that cannot be undone must not end the loop for the others.
                Log.TimeoutLoopFailed(Logger, ex.GetType().Name, ex.Message);
            }
        }

        await RunPendingDeletesAsync(CancellationToken.None);
    }

    private async Task<ExecdResult> RunAsync(ResolvedCommand command, JsonObject message, bool exchangeKeys, CancellationToken cancellationToken)
    {
        var line = message.ToJsonString(s_json);
        if (options.InProcess.TryGetValue(command.Program, out var inProcess))
        {
            return await RunInProcessAsync(command, inProcess, message, line, exchangeKeys, cancellationToken);
        }
        var workingDirectory = options.Home;
        if (options.RunDirectory is { } runDirectory && runDirectory != options.Home)
        {
            try
            {
                LinkProgram(runDirectory, command);
                workingDirectory = runDirectory;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await LogAsync($"{command.Program}: could not link it under {runDirectory} ({ex.Message}); it runs from {options.Home}", cancellationToken);
            }
        }

        var start = new ProcessStartInfo
        {
            // env execs the program by its relative path from the install root, so the program sees exactly what
            // Wazuh's execd gives it: argv0 "active-response/bin/<name>" (the seed's script logs $0), cwd = home,
            // no arguments. Process would otherwise exec an absolute path.
            FileName = "/usr/bin/env",
            ArgumentList = { "--", command.Program },
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException)
        {
            await LogAsync($"{command.Program}: could not start: {ex.Message}", cancellationToken);
            return new ExecdResult(ExecdOutcome.StartFailed, Error: ex.Message);
        }

        using var limit = new CancellationTokenSource(options.RunTimeLimit, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        string? answer = null;
        string? repeatKey = null;
        try
        {
            (answer, repeatKey) = await ExchangeAsync(command, message, line, exchangeKeys, process.StandardInput, process.StandardOutput, linked.Token, cancellationToken);
            CloseInput(process);
            _ = DrainAsync(process.StandardOutput);
            await process.WaitForExitAsync(linked.Token);
            var complaint = (await stderr).Trim();
            if (process.ExitCode is 126 or 127 or > 128 || complaint.Length > 0)
            {
                // A program that cannot run or do its job (not executable, a missing interpreter or jq, killed by a
                // signal) must not pass unseen: the line raises rule 200305. Other exit codes are the program's
                // own answer (remove-threat's 1: nothing removed, already in the AR log).
                await LogAsync(
                    $"{command.Program} exited with code {process.ExitCode}{(complaint.Length > 0 ? $"; stderr: {Truncate(complaint)}" : "")}",
                    CancellationToken.None);
            }

            return new ExecdResult(ExecdOutcome.Completed, answer, repeatKey, process.ExitCode);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            var reason = limit.IsCancellationRequested
                ? $"did not finish within {options.RunTimeLimit.TotalSeconds:0.###} s"
                : "was stopped because execd is shutting down";
            await LogAsync($"{command.Program} {reason}; killed its process tree (pid {process.Id})", CancellationToken.None);
            return new ExecdResult(ExecdOutcome.Killed, answer, repeatKey, Error: reason);
        }
    }

    // The exchange of spec §5.4: the message, then (for add) the check_keys line and execd's continue/abort answer.
    private async Task<(string? Answer, string? RepeatKey)> ExchangeAsync(
        ResolvedCommand command, JsonObject message, string line, bool exchangeKeys, TextWriter input, TextReader output,
        CancellationToken token, CancellationToken logToken)
    {
        await WriteLineAsync(input, line, token);
        if (!exchangeKeys || await output.ReadLineAsync(token) is not { } reply)
        {
            return (null, null);
        }

        string answer;
        string? repeatKey = null;
        var keys = ParseCheckKeys(reply);
        if (keys is null)
        {
            await LogAsync($"{command.Program}: invalid check_keys reply, answered abort: {Truncate(reply)}", logToken);
            answer = "abort";
        }
        else
        {
            repeatKey = RepeatKey(command.Program, keys);
            answer = Decide(command, repeatKey, message);
        }

        var answerMessage = message.DeepClone().AsObject();
        answerMessage["command"] = answer;
        await WriteLineAsync(input, answerMessage.ToJsonString(s_json), token);
        return (answer, repeatKey);
    }

    // An in-process program: the same exchange over in-memory pipes, the same time limit (its token is cancelled).
    private async Task<ExecdResult> RunInProcessAsync(
        ResolvedCommand command, InProcessProgram program, JsonObject message, string line, bool exchangeKeys, CancellationToken cancellationToken)
    {
        using var limit = new CancellationTokenSource(options.RunTimeLimit, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, cancellationToken);
        var toProgram = new System.IO.Pipelines.Pipe();
        var fromProgram = new System.IO.Pipelines.Pipe();
        var run = Task.Run(async () =>
        {
            using var programInput = new StreamReader(toProgram.Reader.AsStream());
            await using var programOutput = new StreamWriter(fromProgram.Writer.AsStream()) { AutoFlush = true };
            return await program(programInput, programOutput, linked.Token);
        }, CancellationToken.None);
        string? answer = null;
        string? repeatKey = null;
        try
        {
            await using (var input = new StreamWriter(toProgram.Writer.AsStream()) { AutoFlush = true })
            {
                using var output = new StreamReader(fromProgram.Reader.AsStream());
                (answer, repeatKey) = await ExchangeAsync(command, message, line, exchangeKeys, input, output, linked.Token, cancellationToken);
            }

            var exit = await run.WaitAsync(linked.Token);
            return new ExecdResult(ExecdOutcome.Completed, answer, repeatKey, exit);
        }
        catch (OperationCanceledException)
        {
            var reason = limit.IsCancellationRequested
                ? $"did not finish within {options.RunTimeLimit.TotalSeconds:0.###} s"
                : "was stopped because execd is shutting down";
            await LogAsync($"{command.Program} {reason}; cancelled (in process)", CancellationToken.None);
            return new ExecdResult(ExecdOutcome.Killed, answer, repeatKey, Error: reason);
        }
    }

    /// <summary>The timeout list (spec §5.4 step 7): continue and remember the delete, or abort a repeat.</summary>
    private string Decide(ResolvedCommand command, string repeatKey, JsonObject message)
    {
        if (command.TimeoutSeconds <= 0)
        {
            return "continue";
        }

        var now = timeProvider.GetUtcNow();
        lock (_gate)
        {
            if (_timeouts.TryGetValue(repeatKey, out var existing))
            {
                _timeouts[repeatKey] = existing with { ExpiresAt = now + TimeSpan.FromSeconds(existing.Seconds) };
                return "abort";
            }

            var seconds = command.TimeoutSeconds;
            var repeated = options.RepeatedOffendersMinutes.Where(m => m > 0).ToArray();
            if (repeated.Length > 0)
            {
                var count = _offences.GetValueOrDefault(repeatKey);
                if (count > 0)
                {
                    seconds = repeated[Math.Min(count - 1, repeated.Length - 1)] * 60;
                }

                _offences[repeatKey] = count + 1;
            }

            var delete = message.DeepClone().AsObject();
            delete["command"] = "delete";
            _timeouts[repeatKey] = new TimeoutEntry(repeatKey, command, delete, seconds, now + TimeSpan.FromSeconds(seconds));
            return "continue";
        }
    }

    /// <summary>Wazuh's rkey: basename(program), then "-key" for each key.</summary>
    public static string RepeatKey(string program, IEnumerable<string> keys) =>
        Path.GetFileName(program) + string.Concat(keys.Select(k => "-" + k));

    /// <summary>The keys of a valid check_keys line (version number, origin object, command "check_keys", parameters object); null when invalid.</summary>
    public static IReadOnlyList<string>? ParseCheckKeys(string line)
    {
        try
        {
            if (JsonNode.Parse(line) is not JsonObject root
                || root["version"] is not JsonValue version || version.GetValueKind() != JsonValueKind.Number
                || root["origin"] is not JsonObject
                || root["command"] is not JsonValue command || !command.TryGetValue<string>(out var name) || name != "check_keys"
                || root["parameters"] is not JsonObject parameters)
            {
                return null;
            }

            if (parameters["keys"] is null)
            {
                return [];
            }

            if (parameters["keys"] is not JsonArray keys)
            {
                return null;
            }

            var result = new List<string>();
            foreach (var key in keys)
            {
                if (key is not JsonValue value || !value.TryGetValue<string>(out var text))
                {
                    return null;
                }

                result.Add(text);
            }

            return result;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task WriteLineAsync(TextWriter input, string line, CancellationToken cancellationToken)
    {
        try
        {
            await input.WriteAsync((line + "\n").AsMemory(), cancellationToken);
            await input.FlushAsync(cancellationToken);
        }
        catch (IOException)
        {
            // The program closed its stdin (or exited) without reading: as with Wazuh, that is its choice.
        }
    }

    private static void CloseInput(Process process)
    {
        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
        }
    }

    private static async Task DrainAsync(StreamReader output)
    {
        try
        {
            await output.ReadToEndAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
    }

    // <run>/active-response/bin/NAME -> <home>/active-response/bin/NAME, replaced when it points elsewhere.
    private void LinkProgram(string runDirectory, ResolvedCommand command)
    {
        var bin = Path.Combine(runDirectory, "active-response", "bin");
        Directory.CreateDirectory(bin);
        var link = Path.Combine(bin, command.Executable);
        var target = Path.Combine(options.BinDirectory, command.Executable);
        var existing = new FileInfo(link);
        if (existing.LinkTarget == target)
        {
            return;
        }

        if (existing.Exists || existing.LinkTarget is not null)
        {
            File.Delete(link);
        }

        File.CreateSymbolicLink(link, target);
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";

    private ValueTask<string> LogAsync(string message, CancellationToken cancellationToken) =>
        log.WriteAsync(LogName, message, cancellationToken);

    private sealed record TimeoutEntry(string RepeatKey, ResolvedCommand Command, JsonObject DeleteMessage, int Seconds, DateTimeOffset ExpiresAt);
}
