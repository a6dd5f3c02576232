using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Vigil.Core.Diagnostics;

namespace Vigil.Cli;

/// <summary>`vigil deadletter list [--limit N] | show ID [--json]`: the events a stage could not handle (rule 200500).</summary>
internal static class DeadLetterCommand
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static void AddTo(RootCommand root)
    {
        var paths = new HomeOptions();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text.", Recursive = true };
        var command = new Command("deadletter", "Events that could not be analysed (kept in the data directory, 10,000 at most).") { json };
        paths.AddTo(command);

        var limit = new Option<int>("--limit") { Description = "How many to list, newest first.", DefaultValueFactory = _ => 100 };
        var list = new Command("list", "List dead letters, newest first.") { limit };
        list.SetAction(parseResult => Run(parseResult, paths, store =>
        {
            var letters = store?.List(parseResult.GetValue(limit)) ?? [];
            if (parseResult.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(letters, s_json));
                return ExitCodes.Success;
            }

            Console.WriteLine($"{"ID",6}  {"TIME (UTC)",-19}  {"AGENT",-12}  {"STAGE",-15}  {"LOCATION",-16}  REASON");
            foreach (var l in letters)
            {
                Console.WriteLine($"{l.Id,6}  {l.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),-19}  {Agent(l),-12}  {l.Stage,-15}  {Printable(l.Location),-16}  {Printable(l.Reason)}");
            }

            return ExitCodes.Success;
        }));

        var id = new Argument<long>("id") { Description = "The dead letter's id." };
        var show = new Command("show", "Show one dead letter: the event as received and the error.") { id };
        show.SetAction(parseResult => Run(parseResult, paths, store =>
        {
            if (store?.Find(parseResult.GetValue(id)) is not { } letter)
            {
                Console.Error.WriteLine($"vigil deadletter: no dead letter with id {parseResult.GetValue(id)}");
                return ExitCodes.Findings;
            }

            if (parseResult.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(letter, s_json));
                return ExitCodes.Success;
            }

            Console.WriteLine($"id:        {letter.Id}");
            Console.WriteLine($"time:      {letter.Time.UtcDateTime:O}");
            Console.WriteLine($"agent:     {Agent(letter)}");
            Console.WriteLine($"location:  {Printable(letter.Location)}");
            Console.WriteLine($"stage:     {letter.Stage}");
            Console.WriteLine($"sequence:  {letter.Sequence}");
            Console.WriteLine($"reason:    {Printable(letter.Reason)}");
            Console.WriteLine($"event:     {JsonSerializer.Serialize(letter.Event, s_json)}");
            Console.WriteLine("error:");
            Console.WriteLine(letter.Detail);
            return ExitCodes.Success;
        }));

        command.Subcommands.Add(list);
        command.Subcommands.Add(show);
        root.Subcommands.Add(command);
    }

    private static string Agent(DeadLetter letter) => letter.AgentName is { } name ? $"{letter.AgentId} ({Printable(name)})" : letter.AgentId;

    // Control characters from the event would reach the terminal: they are shown escaped.
    private static string Printable(string text) =>
        text.Any(char.IsControl) ? JsonSerializer.Serialize(text, s_json)[1..^1] : text;

    private static int Run(ParseResult parseResult, HomeOptions paths, Func<DeadLetterStore?, int> action)
    {
        try
        {
            using var store = DeadLetterStore.OpenExisting(paths.ResolveDataDir(parseResult), TimeProvider.System);
            return action(store);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            Console.Error.WriteLine($"vigil deadletter: {ex.Message}");
            return ExitCodes.IoError;
        }
    }
}
