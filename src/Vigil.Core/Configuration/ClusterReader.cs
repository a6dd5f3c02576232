using System.Xml.Linq;

namespace Vigil.Core.Configuration;

/// <summary>Reads <c>&lt;cluster&gt;</c>: Vigil uses its name, node name and whether it is disabled.</summary>
internal static class ClusterReader
{
    // The rest of a Wazuh cluster block configures wazuh-clusterd, which Vigil does not have.
    private static readonly HashSet<string> KnownUnused = new(StringComparer.Ordinal)
    {
        "node_type", "key", "port", "bind_addr", "nodes", "hidden", "interval", "haproxy_helper",
    };

    public static ClusterOptions Read(ConfigContext context, XElement block, ClusterOptions current)
    {
        var options = current;
        foreach (var element in block.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "name":
                    options = NonEmpty(context, element) is { } name ? options with { Name = name } : options;
                    break;
                case "node_name":
                    options = NonEmpty(context, element) is { } node ? options with { NodeName = node } : options;
                    break;
                case "disabled":
                    options = context.YesNo(element) is { } disabled ? options with { Disabled = disabled } : options;
                    break;
                case var unused when KnownUnused.Contains(unused):
                    break;
                default:
                    context.UnknownOption(element, "cluster", ["name", "node_name", "disabled", .. KnownUnused]);
                    break;
            }
        }

        return options;
    }

    private static string? NonEmpty(ConfigContext context, XElement element)
    {
        var value = ConfigContext.Text(element);
        if (value.Length > 0)
        {
            return value;
        }

        context.Error(element, $"{ConfigContext.Name(element)} must not be empty");
        return null;
    }
}
