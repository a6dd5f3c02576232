using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Vigil.Transport.Registry;

namespace Vigil.Cli;

/// <summary>`vigil agents list | remove ID` (manage_agents' role), on the manager's data directory.</summary>
internal static class AgentsCommand
{
    public static void AddTo(RootCommand root)
    {
        var paths = new HomeOptions();
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var list = new Command("list", "List enrolled agents.") { json };
        var id = new Argument<string>("ID") { Description = "The agent id (e.g. 002)." };
        var remove = new Command("remove", "Remove an agent: its certificate is refused from now on (its id is not reused).") { id };
        var command = new Command("agents", "The manager's agent registry.") { list, remove };
        paths.AddTo(command);
        list.SetAction(parseResult =>
        {
            using var registry = new AgentRegistry(AgentRegistry.PathUnder(paths.ResolveDataDir(parseResult)));
            var agents = registry.List();
            if (parseResult.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(agents, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
                return ExitCodes.Success;
            }

            Console.Out.WriteLine($"{"ID",-5} {"NAME",-24} {"ADDRESS",-16} {"STATUS",-16} {"LAST KEEP-ALIVE",-26} VERSION");
            foreach (var agent in agents)
            {
                Console.Out.WriteLine($"{agent.Id,-5} {agent.Name,-24} {agent.Address ?? "-",-16} {agent.Status,-16} {agent.LastKeepAlive?.ToString("u", CultureInfo.InvariantCulture) ?? "-",-26} {agent.Version ?? "-"}");
            }

            return ExitCodes.Success;
        });
        remove.SetAction(parseResult =>
        {
            using var registry = new AgentRegistry(AgentRegistry.PathUnder(paths.ResolveDataDir(parseResult)));
            // The list shows ids as 002; "2" means the same agent.
            var given = parseResult.GetValue(id)!;
            var agentId = given.Length is > 0 and < 3 && given.All(char.IsAsciiDigit) ? given.PadLeft(3, '0') : given;
            if (!registry.Remove(agentId))
            {
                Console.Error.WriteLine($"vigil agents remove: no agent {agentId} (or already removed)");
                return ExitCodes.Findings;
            }

            Console.Out.WriteLine($"vigil: agent {agentId} removed; it is refused from now on");
            return ExitCodes.Success;
        });
        root.Subcommands.Add(command);
    }
}
