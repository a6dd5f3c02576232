using System.Xml.Linq;

namespace Vigil.Core.Configuration;

/// <summary>Walks every <c>&lt;ossec_config&gt;</c> root of a file and hands each block to its reader.</summary>
internal sealed class OssecConfigReader(ConfigContext context)
{
    private const string RootName = "ossec_config";

    private readonly SyscheckReader _syscheck = new(context);
    private readonly List<IntegrationOptions> _integrations = [];
    private readonly List<CommandOptions> _commands = [];
    private readonly HashSet<string> _declaredCommands = new(StringComparer.Ordinal);
    private readonly List<ActiveResponseReader.Pending> _activeResponses = [];
    private readonly Dictionary<string, (XElement First, int Count)> _unimplemented = new(StringComparer.Ordinal);

    public OssecConfig Read(XElement file, OssecConfig config)
    {
        var roots = 0;
        foreach (var node in file.Nodes())
        {
            switch (node)
            {
                case XElement { Name.LocalName: RootName } root:
                    roots++;
                    config = ReadRoot(root, config);
                    break;
                case XElement other:
                    context.Error(other, $"{ConfigContext.Name(other)} is not a valid top-level element; blocks go inside <{RootName}>");
                    break;
                case XText text when !string.IsNullOrWhiteSpace(text.Value):
                    context.Error(text, $"text outside <{RootName}>: {ConfigContext.Shown(text.Value.Trim())}");
                    break;
            }
        }

        if (roots == 0)
        {
            context.Diagnostics.Error(context.File, 1, $"no <{RootName}> element: the file configures nothing");
        }

        foreach (var (name, (first, count)) in _unimplemented)
        {
            var times = count > 1 ? $" ({count} blocks)" : "";
            context.Warning(first, $"<{name}> is not implemented by Vigil and is ignored{times}");
        }

        return config with
        {
            Syscheck = _syscheck.Build(),
            Integrations = _integrations.ToArray(),
            Commands = _commands.ToArray(),
            ActiveResponses = BindActiveResponses(),
        };
    }

    private OssecConfig ReadRoot(XElement root, OssecConfig config)
    {
        foreach (var block in root.Elements())
        {
            switch (block.Name.LocalName)
            {
                case "global":
                    config = config with { Global = GlobalReader.Read(context, block, config.Global) };
                    break;
                case "alerts":
                    config = config with { Alerts = AlertsReader.Read(context, block, config.Alerts) };
                    break;
                case "syscheck":
                    _syscheck.Read(block);
                    break;
                case "integration":
                    if (IntegrationReader.Read(context, block) is { } integration)
                    {
                        _integrations.Add(integration);
                    }

                    break;
                case "command":
                    ReadCommand(block);
                    break;
                case "active-response":
                    if (ActiveResponseReader.Read(context, block) is { } pending)
                    {
                        _activeResponses.Add(pending);
                    }

                    break;
                case "ruleset":
                    config = config with { Ruleset = RulesetReader.Read(context, block, config.Ruleset) };
                    break;
                case "cluster":
                    config = config with { Cluster = ClusterReader.Read(context, block, config.Cluster) };
                    break;
                case "prevention":
                    config = config with { Prevention = PreventionReader.Read(context, block, config.Prevention) };
                    break;
                case "client":
                    config = config with { Client = ClientReader.Read(context, block, config.Client) };
                    break;
                case "database":
                    config = config with { Database = DatabaseReader.Read(context, block, config.Database) };
                    break;
                default:
                    var name = block.Name.LocalName;
                    _unimplemented[name] = _unimplemented.TryGetValue(name, out var seen) ? (seen.First, seen.Count + 1) : (block, 1);
                    break;
            }
        }

        return config;
    }

    private void ReadCommand(XElement block)
    {
        // An invalid command still counts as declared, so an <active-response> naming it gets no second error.
        if (block.Element("name") is { } nameElement)
        {
            _declaredCommands.Add(ConfigContext.Text(nameElement));
        }

        if (CommandReader.Read(context, block) is not { } command)
        {
            return;
        }

        if (_commands.Find(c => c.Name == command.Name) is { } earlier)
        {
            // Wazuh binds an active response to the first command of that name.
            context.Warning(block, $"<command> '{command.Name}' is already defined at {earlier.Source}; that first definition is used");
            return;
        }

        _commands.Add(command);
    }

    private ActiveResponseOptions[] BindActiveResponses()
    {
        var bound = new List<ActiveResponseOptions>();
        foreach (var (options, commandElement, timeoutElement) in _activeResponses)
        {
            var command = _commands.Find(c => c.Name == options.Command);
            if (command is null)
            {
                if (!_declaredCommands.Contains(options.Command))
                {
                    var defined = _commands.Count == 0 ? "none is defined" : $"defined: {string.Join(", ", _commands.Select(c => c.Name))}";
                    context.Error(commandElement, $"<command> {ConfigContext.Shown(options.Command)} names no <command> block ({defined})");
                }

                continue;
            }

            var resolved = options;
            if (options.TimeoutSeconds > 0 && !command.TimeoutAllowed)
            {
                context.Warning(timeoutElement ?? commandElement,
                    $"<timeout> is reset to 0 because <command> '{command.Name}' has <timeout_allowed>no</timeout_allowed>");
                resolved = options with { TimeoutSeconds = 0 };
            }

            bound.Add(resolved);
        }

        return bound.ToArray();
    }
}
