using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Vigil.Core;
using Vigil.Core.Native;
using Vigil.Response.Execd;
using Vigil.Response.Quarantine;

namespace Vigil.Cli;

/// <summary>`vigil quarantine list | show ID | restore ID [--to PATH] | delete ID | purge --older-than D`.</summary>
internal static class QuarantineCommand
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static void AddTo(RootCommand root)
    {
        var paths = new HomeOptions();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text.", Recursive = true };
        var command = new Command("quarantine", "List, inspect, restore and delete quarantined files.") { json };
        paths.AddTo(command);

        var list = new Command("list", "List quarantined, restored and deleted files, newest first.");
        list.SetAction(parseResult => Run(parseResult, paths, (vault, _) =>
        {
            var records = vault.Store.List();
            if (parseResult.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(records, s_json));
            }
            else
            {
                Console.WriteLine($"{"ID",5}  {"STATE",-11}  {"QUARANTINED AT (UTC)",-20}  {"SHA256",-16}  PATH");
                foreach (var r in records)
                {
                    Console.WriteLine($"{r.Id,5}  {Text(r.State),-11}  {r.QuarantinedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),-20}  {r.Sha256[..16],-16}  {JsonSerializer.Serialize(r.OriginalPath, s_json)}");
                }
            }

            return ExitCodes.Success;
        }));

        var showId = new Argument<long>("id") { Description = "The quarantine record id." };
        var show = new Command("show", "Show one record.") { showId };
        show.SetAction(parseResult => Run(parseResult, paths, (vault, _) =>
        {
            var record = vault.Store.Get(parseResult.GetValue(showId)) ?? throw new VigilException($"no quarantine record with id {parseResult.GetValue(showId)}");
            Print(record, parseResult.GetValue(json));
            return ExitCodes.Success;
        }));

        var restoreId = new Argument<long>("id") { Description = "The quarantine record id." };
        var to = new Option<string>("--to") { Description = "Restore to this path (or into this directory) instead of the original path." };
        var exemptFor = new Option<string>("--exempt-for")
        {
            Description = "How long the restored file (that path with that content) is not removed again: 30d (default), 12h, …",
            DefaultValueFactory = _ => "30d",
        };
        var restore = new Command("restore", "Put a file back with its owner, mode and times; never overwrites; that file is exempt from removal for 30 days.")
        {
            restoreId, to, exemptFor,
        };
        restore.SetAction(parseResult => Run(parseResult, paths, (vault, log) =>
        {
            var lifetime = ParseAge(parseResult.GetValue(exemptFor)!, "--exempt-for");
            var record = vault.Restore(parseResult.GetValue(restoreId), parseResult.GetValue(to), lifetime);
            QuarantineAudit.WriteAsync(log, "restore", record, "Quarantined file restored", CancellationToken.None).AsTask().GetAwaiter().GetResult();
            Print(record, parseResult.GetValue(json));
            return ExitCodes.Success;
        }));

        var deleteId = new Argument<long>("id") { Description = "The quarantine record id." };
        var delete = new Command("delete", "Delete a quarantined file for good.") { deleteId };
        delete.SetAction(parseResult => Run(parseResult, paths, (vault, log) =>
        {
            var record = vault.Delete(parseResult.GetValue(deleteId));
            QuarantineAudit.WriteAsync(log, "delete", record, "Quarantined file deleted", CancellationToken.None).AsTask().GetAwaiter().GetResult();
            Print(record, parseResult.GetValue(json));
            return ExitCodes.Success;
        }));

        var olderThan = new Option<string>("--older-than") { Description = "Age, e.g. 30d, 12h, 90m, 45s (a bare number is days).", Required = true };
        var purge = new Command("purge", "Delete every file quarantined longer ago than --older-than.") { olderThan };
        purge.SetAction(parseResult => Run(parseResult, paths, (vault, log) =>
        {
            var age = ParseAge(parseResult.GetValue(olderThan)!, "--older-than");
            var purged = vault.Purge(age);
            foreach (var record in purged)
            {
                QuarantineAudit.WriteAsync(log, "delete", record, "Quarantined file purged", CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }

            if (parseResult.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(purged, s_json));
            }
            else
            {
                Console.WriteLine($"purged {purged.Count} file(s)");
            }

            return ExitCodes.Success;
        }));

        var exemptions = new Command("exemptions", "List the restored files that are exempt from removal (path and sha256), with their expiry.");
        exemptions.SetAction(parseResult => Run(parseResult, paths, (vault, _) =>
        {
            var all = vault.Store.Exemptions();
            if (parseResult.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(all, s_json));
                return ExitCodes.Success;
            }

            Console.WriteLine($"{"ID",5}  {"STATE",-8}  {"EXPIRES (UTC)",-20}  {"QUARANTINE",-10}  {"SHA256",-16}  PATH");
            foreach (var e in all)
            {
                Console.WriteLine($"{e.Id,5}  {e.State,-8}  {e.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),-20}  {e.QuarantineId?.ToString(CultureInfo.InvariantCulture) ?? "-",-10}  {e.Sha256[..16],-16}  {JsonSerializer.Serialize(e.Path, s_json)}");
            }

            return ExitCodes.Success;
        }));
        var revokeId = new Argument<long>("id") { Description = "The exemption id (from `vigil quarantine exemptions`)." };
        var revoke = new Command("revoke", "End an exemption now: the file is removed again if it is flagged.") { revokeId };
        revoke.SetAction(parseResult => Run(parseResult, paths, (vault, _) =>
        {
            var id = parseResult.GetValue(revokeId);
            if (!vault.Store.RevokeExemption(id))
            {
                throw new VigilException($"no active exemption with id {id} (see vigil quarantine exemptions)");
            }

            Console.WriteLine($"exemption {id} revoked");
            return ExitCodes.Success;
        }));
        exemptions.Subcommands.Add(revoke);

        command.Subcommands.Add(list);
        command.Subcommands.Add(exemptions);
        command.Subcommands.Add(show);
        command.Subcommands.Add(restore);
        command.Subcommands.Add(delete);
        command.Subcommands.Add(purge);
        root.Subcommands.Add(command);
    }

    /// <summary>Parses 30d, 12h, 90m, 45s or a bare number of days.</summary>
    internal static TimeSpan ParseAge(string text, string option = "--older-than")
    {
        var unit = text.Length > 0 && char.IsAsciiLetter(text[^1]) ? char.ToLowerInvariant(text[^1]) : 'd';
        var number = char.IsAsciiLetter(text.Length > 0 ? text[^1] : '0') ? text[..^1] : text;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            throw new VigilException($"{option} {text}: expected a number with d, h, m or s");
        }

        return unit switch
        {
            'd' => TimeSpan.FromDays(value),
            'h' => TimeSpan.FromHours(value),
            'm' => TimeSpan.FromMinutes(value),
            's' => TimeSpan.FromSeconds(value),
            _ => throw new VigilException($"{option} {text}: expected a number with d, h, m or s"),
        };
    }

    private static int Run(ParseResult parseResult, HomeOptions paths, Func<QuarantineVault, ActiveResponseLog, int> action)
    {
        try
        {
            var home = paths.ResolveHome(parseResult);
            var options = new QuarantineOptions { DataDirectory = paths.ResolveDataDir(parseResult) };
            if (!File.Exists(options.DatabasePath))
            {
                QuarantineVault.EnsureDataDirectory(options);
            }

            var time = TimeProvider.System;
            var vault = new QuarantineVault(options, new QuarantineStore(options.DatabasePath, time), time);
            return action(vault, new ActiveResponseLog(ActiveResponseLog.PathInData(options.DataDirectory), time));
        }
        catch (VigilException ex)
        {
            Console.Error.WriteLine($"vigil quarantine: {ex.Message}");
            return ex is NativeIOException ? ExitCodes.IoError : ExitCodes.Findings;
        }
    }

    private static void Print(QuarantineRecord record, bool asJson)
    {
        if (asJson)
        {
            Console.WriteLine(JsonSerializer.Serialize(record, s_json));
            return;
        }

        Console.WriteLine($"id:             {record.Id}");
        Console.WriteLine($"state:          {Text(record.State)}");
        Console.WriteLine($"original path:  {JsonSerializer.Serialize(record.OriginalPath, s_json)}");
        Console.WriteLine($"vault path:     {record.VaultPath}");
        Console.WriteLine($"owner:          {record.Uid}:{record.Gid}");
        Console.WriteLine($"mode:           {Convert.ToString(record.Mode & 0xFFF, 8).PadLeft(4, '0')}");
        Console.WriteLine($"size:           {record.Size}");
        Console.WriteLine($"mtime:          {DateTimeOffset.FromUnixTimeSeconds(record.MtimeSeconds).UtcDateTime:O}");
        Console.WriteLine($"md5:            {record.Md5}");
        Console.WriteLine($"sha1:           {record.Sha1}");
        Console.WriteLine($"sha256:         {record.Sha256}");
        Console.WriteLine($"alert / rule:   {record.AlertId ?? "-"} / {record.RuleId ?? "-"}");
        Console.WriteLine($"verdict:        {record.Description ?? "-"}");
        Console.WriteLine($"agent:          {record.AgentId ?? "-"} {record.AgentName}");
        Console.WriteLine($"quarantined at: {record.QuarantinedAt.UtcDateTime:O}");
        if (record.RestoredTo is not null)
        {
            Console.WriteLine($"restored to:    {JsonSerializer.Serialize(record.RestoredTo, s_json)}");
        }
    }

    private static string Text(QuarantineState state) => state.ToString().ToLowerInvariant();
}
