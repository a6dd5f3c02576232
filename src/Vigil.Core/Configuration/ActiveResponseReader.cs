using System.Xml.Linq;

namespace Vigil.Core.Configuration;

/// <summary>
/// Reads one <c>&lt;active-response&gt;</c> block (spec §5.1). Binding to its <c>&lt;command&gt;</c> happens once the
/// whole file is read, because the command may be defined further down.
/// </summary>
internal static class ActiveResponseReader
{
    private const int MaxLevel = 20;
    private const int MaxRepeatedOffenders = 5;

    private static readonly string[] Allowed =
    [
        "command", "location", "agent_id", "rules_id", "rules_group", "level", "timeout", "disabled",
        "repeated_offenders", "ca_store", "ca_verification",
    ];

    // What an agent's own <active-response> block holds (execd settings); such a block has no command.
    private static readonly HashSet<string> AgentSide = new(StringComparer.Ordinal)
    {
        "disabled", "repeated_offenders", "ca_store", "ca_verification",
    };

    // Wazuh matches the location with OSRegex (unanchored, case-insensitive), so values can combine.
    private static readonly (ActiveResponseLocations Flag, string[] Words)[] LocationWords =
    [
        (ActiveResponseLocations.Server, ["AS", "analysisd", "analysis-server", "server"]),
        (ActiveResponseLocations.Local, ["local"]),
        (ActiveResponseLocations.DefinedAgent, ["defined-agent"]),
        (ActiveResponseLocations.All, ["all", "any"]),
    ];

    /// <summary>An enabled block waiting for its command to be resolved.</summary>
    internal sealed record Pending(ActiveResponseOptions Options, XElement CommandElement, XElement? TimeoutElement);

    public static Pending? Read(ConfigContext context, XElement block)
    {
        var options = new ActiveResponseOptions { Command = "", Source = context.Locate(block) };
        XElement? commandElement = null;
        XElement? locationElement = null;
        XElement? agentIdElement = null;
        XElement? timeoutElement = null;
        var disabled = false;
        var valid = true;

        foreach (var element in block.Elements())
        {
            var value = ConfigContext.Text(element);
            switch (element.Name.LocalName)
            {
                case "command":
                    commandElement = element;
                    options = options with { Command = value };
                    break;
                case "location":
                    locationElement = element;
                    break;
                case "agent_id":
                    agentIdElement = element;
                    options = options with { AgentId = value };
                    break;
                case "rules_id":
                    var ids = ConfigContext.CommaList(value);
                    if (ids.Count == 0 || ids.Any(id => !ConfigContext.TryParseDigits(id, out _)))
                    {
                        context.Error(element, $"<rules_id> must be a comma-separated list of rule ids such as 87105, got {ConfigContext.Shown(value)}");
                        valid = false;
                    }

                    options = options with { RulesId = ids };
                    break;
                case "rules_group":
                    options = options with { RulesGroup = value.Length == 0 ? null : value };
                    break;
                case "level":
                    var level = context.Integer(element, 0, MaxLevel);
                    valid &= level is not null;
                    options = options with { Level = level };
                    break;
                case "timeout":
                    timeoutElement = element;
                    var timeout = context.Integer(element, 0, int.MaxValue, "seconds");
                    valid &= timeout is not null;
                    options = options with { TimeoutSeconds = timeout ?? 0 };
                    break;
                case "disabled":
                    var isDisabled = context.YesNo(element);
                    valid &= isDisabled is not null;
                    disabled = isDisabled ?? false;
                    break;
                case "repeated_offenders":
                    var minutes = RepeatedOffenders(context, element, value);
                    valid &= minutes is not null;
                    options = options with { RepeatedOffendersMinutes = minutes ?? [] };
                    break;
                case "ca_store":
                    break;
                case "ca_verification":
                    valid &= context.YesNo(element) is not null;
                    break;
                default:
                    context.UnknownOption(element, "active-response", Allowed);
                    valid = false;
                    break;
            }
        }

        // A disabled block is left out; unlike Wazuh (spec §8 item 23) it does not disable the other blocks.
        if (disabled)
        {
            return null;
        }

        if (commandElement is null && locationElement is null && block.Elements().All(e => AgentSide.Contains(e.Name.LocalName)))
        {
            // An agent's execd settings block (repeated_offenders, ca_store): nothing to bind to rules.
            return null;
        }

        if (commandElement is null || options.Command.Length == 0)
        {
            context.Error(commandElement ?? block, "<active-response> needs a <command> naming a <command> block");
            valid = false;
        }

        if (locationElement is null)
        {
            context.Error(block, "<active-response> needs a <location>: local, server, defined-agent or all");
            return null;
        }

        var location = ParseLocation(ConfigContext.Text(locationElement));
        if (location == ActiveResponseLocations.None)
        {
            context.Error(locationElement, "<location> must be local, server (or AS, analysisd, analysis-server), defined-agent or all (or any), "
                + $"got {ConfigContext.Shown(ConfigContext.Text(locationElement))}");
            valid = false;
        }

        if (location.HasFlag(ActiveResponseLocations.DefinedAgent))
        {
            valid &= ValidAgentId(context, block, agentIdElement);
        }

        return valid && commandElement is not null ? new Pending(options with { Location = location }, commandElement, timeoutElement) : null;
    }

    public static ActiveResponseLocations ParseLocation(string value)
    {
        var location = ActiveResponseLocations.None;
        foreach (var (flag, words) in LocationWords)
        {
            if (words.Any(word => value.Contains(word, StringComparison.OrdinalIgnoreCase)))
            {
                location |= flag;
            }
        }

        return location;
    }

    private static bool ValidAgentId(ConfigContext context, XElement block, XElement? agentIdElement)
    {
        if (agentIdElement is null)
        {
            context.Error(block, "<location> defined-agent needs an <agent_id>");
            return false;
        }

        var value = ConfigContext.Text(agentIdElement);
        if (!ConfigContext.TryParseDigits(value, out var id))
        {
            context.Error(agentIdElement, $"<agent_id> must be an agent number such as 001, got {ConfigContext.Shown(value)}");
            return false;
        }

        if (id == 0)
        {
            context.Error(agentIdElement, $"<agent_id> {ConfigContext.Shown(value)} is the manager; use <location>server</location> to run there");
            return false;
        }

        return true;
    }

    private static IReadOnlyList<int>? RepeatedOffenders(ConfigContext context, XElement element, string value)
    {
        var entries = ConfigContext.CommaList(value);
        var minutes = new List<int>();
        foreach (var entry in entries)
        {
            if (ConfigContext.TryParseDigits(entry, out var number) && number is >= 1 and <= int.MaxValue)
            {
                minutes.Add((int)number);
            }
        }

        if (entries.Count == 0 || minutes.Count != entries.Count || minutes.Count > MaxRepeatedOffenders)
        {
            context.Error(element, $"<repeated_offenders> must be up to {MaxRepeatedOffenders} comma-separated whole numbers of minutes "
                + $"such as 30,60,120, got {ConfigContext.Shown(value)}");
            return null;
        }

        return minutes;
    }
}
