using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Vigil.Manager;
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
        var database = new Option<string?>("--database") { Description = "The managers' shared PostgreSQL (postgres://user@host:port/database), as given to `vigil manager`.", Recursive = true };
        var databasePasswordFile = new Option<FileInfo?>("--database-password-file") { Description = $"File holding the database password (default: ${Vigil.Storage.Postgres.PostgresDatabase.PasswordVariable}).", Recursive = true };
        var configOption = new Option<string?>("--config") { Description = "The manager's ossec.conf, for its <database> block (default: config/ossec.conf under the Vigil home).", Recursive = true };
        var command = new Command("agents", "The manager's agent registry.") { list, remove, database, databasePasswordFile, configOption };
        paths.AddTo(command);
        list.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var registry = await OpenAsync(parseResult, paths, database, databasePasswordFile, configOption, cancellationToken);
            if (registry.Error is { } error)
            {
                await Console.Error.WriteLineAsync($"vigil agents: {error}");
                return ExitCodes.ConfigError;
            }

            var agents = registry.Directory!.List();
            if (parseResult.GetValue(json))
            {
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(agents, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
                return ExitCodes.Success;
            }

            await Console.Out.WriteLineAsync($"{"ID",-5} {"NAME",-24} {"ADDRESS",-16} {"STATUS",-16} {"LAST KEEP-ALIVE",-26} VERSION");
            foreach (var agent in agents)
            {
                await Console.Out.WriteLineAsync($"{agent.Id,-5} {agent.Name,-24} {agent.Address ?? "-",-16} {agent.Status,-16} {agent.LastKeepAlive?.ToString("u", CultureInfo.InvariantCulture) ?? "-",-26} {agent.Version ?? "-"}");
            }

            return ExitCodes.Success;
        });
        remove.SetAction(async (parseResult, cancellationToken) =>
        {
            await using var registry = await OpenAsync(parseResult, paths, database, databasePasswordFile, configOption, cancellationToken);
            if (registry.Error is { } error)
            {
                await Console.Error.WriteLineAsync($"vigil agents: {error}");
                return ExitCodes.ConfigError;
            }

            // The list shows ids as 002; "2" means the same agent.
            var given = parseResult.GetValue(id)!;
            var agentId = given.Length is > 0 and < 3 && given.All(char.IsAsciiDigit) ? given.PadLeft(3, '0') : given;
            if (!registry.Directory!.Remove(agentId))
            {
                await Console.Error.WriteLineAsync($"vigil agents remove: no agent {agentId} (or already removed)");
                return ExitCodes.Findings;
            }

            await Console.Out.WriteLineAsync($"vigil: agent {agentId} removed; it is refused from now on");
            return ExitCodes.Success;
        });
        root.Subcommands.Add(command);
    }

    // The registry a `vigil manager` with the same options and configuration uses: --database, else the <database>
    // block of its ossec.conf, else the SQLite one under the data directory.
    private static async Task<Registry> OpenAsync(
        ParseResult parseResult, HomeOptions paths, Option<string?> database, Option<FileInfo?> passwordFile, Option<string?> configOption, CancellationToken cancellationToken)
    {
        var (url, password) = (parseResult.GetValue(database), parseResult.GetValue(passwordFile));
        if (url is null)
        {
            var home = paths.ResolveHome(parseResult);
            var configPath = Path.GetFullPath(parseResult.GetValue(configOption) ?? Path.Combine(home, "config", "ossec.conf"));
            if (parseResult.GetValue(configOption) is not null || File.Exists(configPath))
            {
                var loaded = Vigil.Core.Configuration.OssecConfigLoader.Load(configPath, new Vigil.Core.Configuration.ConfigLoadOptions { Home = home });
                if (loaded.Diagnostics.Where(d => d.Severity == Vigil.Core.Diagnostics.DiagnosticSeverity.Error).ToList() is { Count: > 0 } errors)
                {
                    // As `vigil manager`, which would not start on it: not the SQLite registry in place of a shared one.
                    return new Registry(null, $"the configuration has errors (a manager would not start on it):{Environment.NewLine}{string.Join(Environment.NewLine, errors)}", null, null);
                }

                string? origin;
                (url, password, _, origin) = SharedDatabase.Resolve(null, password, null, loaded.Config);
                if (origin is not null)
                {
                    await Console.Error.WriteLineAsync(origin);
                }
            }
        }

        if (url is null)
        {
            var local = new AgentRegistry(AgentRegistry.PathUnder(paths.ResolveDataDir(parseResult)));
            return new Registry(local, null, local, null);
        }

        var shared = await SharedDatabase.OpenAsync(url, password, cancellationToken, quiet: true);
        if (shared.Database is not { } opened)
        {
            await shared.DisposeAsync();
            return new Registry(null, shared.Error, null, null);
        }

        return new Registry(new Vigil.Storage.Postgres.PostgresAgentDirectory(opened, $"vigil agents@{System.Net.Dns.GetHostName()}", Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance), null, null, shared);
    }

    private sealed record Registry(IAgentDirectory? Directory, string? Error, AgentRegistry? Local, SharedDatabase? Shared) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Local?.Dispose();
            if (Shared is not null)
            {
                await Shared.DisposeAsync();
            }
        }
    }
}
