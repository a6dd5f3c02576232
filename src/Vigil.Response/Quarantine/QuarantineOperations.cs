using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vigil.Core;
using Vigil.Response.Execd;

namespace Vigil.Response.Quarantine;

/// <summary>How an operator's quarantine command ended.</summary>
internal sealed record QuarantineOperationResult(bool Succeeded, string Message, QuarantineRecord? Record = null);

/// <summary>
/// Operator actions on a host's quarantine — restore and delete — run in process, as the manager's dashboard asks
/// for them: directly on the manager's own host, or on an agent through the active-response channel as the command
/// <see cref="CommandName"/> (JSON <c>{"command":"restore"|"delete","parameters":{"id":N,"requested_by":"…"}}</c>).
/// Each action is written to the active-response log like `vigil quarantine` does (rules 200300/200301), so the
/// manager learns the outcome from the alert; a failure is written there too, with the reason.
/// </summary>
internal sealed class QuarantineOperations(QuarantineOptions options, ActiveResponseLog log, TimeProvider time)
{
    /// <summary>The quarantine of the host this process runs on.</summary>
    public static QuarantineOperations Local(string dataDirectory, string activeResponseLog, TimeProvider time) =>
        new(new QuarantineOptions { DataDirectory = dataDirectory }, new ActiveResponseLog(activeResponseLog, time), time);

    /// <summary>The active-response name the manager sends quarantine commands under; agents run it in process.</summary>
    public const string CommandName = "vigil-quarantine";

    private static readonly JsonSerializerOptions s_json = ResponseJson.Options;

    /// <summary>The command's JSON as the manager sends it.</summary>
    /// <summary>
    /// The command's JSON as the manager sends it: the record id, and the path and SHA-256 the manager knows for it,
    /// which the agent checks against its own record before acting (an id alone could name another file).
    /// </summary>
    public static string CommandJson(string verb, long id, string path, string? sha256, string requestedBy) =>
        new JsonObject
        {
            ["version"] = 1,
            ["origin"] = new JsonObject { ["name"] = "vigil", ["module"] = "quarantine" },
            ["command"] = verb,
            ["parameters"] = new JsonObject { ["id"] = id, ["path"] = path, ["sha256"] = sha256, ["requested_by"] = requestedBy },
        }.ToJsonString(s_json);

    /// <summary>Runs a command received as JSON; a malformed one is refused with a clear message.</summary>
    public Task<QuarantineOperationResult> RunAsync(string json, CancellationToken cancellationToken)
    {
        string? verb;
        long id;
        string? path;
        string? sha256;
        try
        {
            var root = JsonNode.Parse(json);
            verb = root?["command"]?.GetValue<string>();
            id = root?["parameters"]?["id"]?.GetValue<long>() ?? -1;
            path = root?["parameters"]?["path"]?.GetValue<string>();
            sha256 = root?["parameters"]?["sha256"]?.GetValue<string>();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return Task.FromResult(new QuarantineOperationResult(false, $"quarantine command refused: not a valid command ({ex.Message})"));
        }

        if (id <= 0)
        {
            return Task.FromResult(new QuarantineOperationResult(false, "quarantine command refused: parameters.id is missing"));
        }

        if (path is null)
        {
            return Task.FromResult(new QuarantineOperationResult(false, "quarantine command refused: parameters.path is missing"));
        }

        if (Mismatch(id, path, sha256) is { } mismatch)
        {
            return Task.FromResult(new QuarantineOperationResult(false, $"quarantine command refused: {mismatch}"));
        }

        return verb switch
        {
            "restore" => RestoreAsync(id, cancellationToken),
            "delete" => DeleteAsync(id, cancellationToken),
            _ => Task.FromResult(new QuarantineOperationResult(false, $"quarantine command refused: unknown command {ResponseJson.Quote(verb)}")),
        };
    }

    /// <summary>Why record <paramref name="id"/> is not the file the command names; null when it is.</summary>
    private string? Mismatch(long id, string path, string? sha256)
    {
        if (!File.Exists(options.DatabasePath))
        {
            return $"there is no quarantine record {id.ToString(CultureInfo.InvariantCulture)} here";
        }

        var record = new QuarantineStore(options.DatabasePath, time).Get(id);
        if (record is null)
        {
            return $"there is no quarantine record {id.ToString(CultureInfo.InvariantCulture)} here";
        }

        if (record.OriginalPath != path || (sha256 is not null && !string.Equals(record.Sha256, sha256, StringComparison.OrdinalIgnoreCase)))
        {
            return $"quarantine record {id.ToString(CultureInfo.InvariantCulture)} here is {ResponseJson.Quote(record.OriginalPath)} (sha256 {record.Sha256}), not the file the command names";
        }

        return null;
    }

    public Task<QuarantineOperationResult> RestoreAsync(long id, CancellationToken cancellationToken) =>
        ActAsync(id, "restore", vault => vault.Restore(id, null), "Quarantined file restored", cancellationToken);

    public Task<QuarantineOperationResult> DeleteAsync(long id, CancellationToken cancellationToken) =>
        ActAsync(id, "delete", vault => vault.Delete(id), "Quarantined file deleted", cancellationToken);

    private async Task<QuarantineOperationResult> ActAsync(
        long id, string verb, Func<QuarantineVault, QuarantineRecord> action, string text, CancellationToken cancellationToken)
    {
        if (!File.Exists(options.DatabasePath))
        {
            return new QuarantineOperationResult(false, $"no quarantine record with id {id.ToString(CultureInfo.InvariantCulture)} (this host has no quarantine)");
        }

        var store = new QuarantineStore(options.DatabasePath, time);
        {
            var vault = new QuarantineVault(options, store, time);
            QuarantineRecord record;
            try
            {
                record = action(vault);
            }
            catch (VigilException ex)
            {
                if (store.Get(id) is { } existing)
                {
                    await QuarantineAudit.WriteAsync(log, verb, existing, $"Error on quarantined file: {ex.Message}", cancellationToken);
                }

                return new QuarantineOperationResult(false, ex.Message);
            }

            await QuarantineAudit.WriteAsync(log, verb, record, text, cancellationToken);
            return new QuarantineOperationResult(true, verb == "restore" ? $"restored to {record.RestoredTo ?? record.OriginalPath}" : "deleted for good", record);
        }
    }
}
