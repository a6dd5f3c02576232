using System.Xml.Linq;

namespace Vigil.Core.Configuration;

/// <summary>
/// Reads the agent's <c>&lt;client&gt;</c>: its <c>&lt;server&gt;</c> blocks, in order, are the managers it connects
/// to (the same list as <c>vigil agent --manager H1:P1,H2:P2</c>, which wins over them).
/// </summary>
internal static class ClientReader
{
    // wazuh-agentd options Vigil's agent does not need (keep-alives are --keep-alive, enrollment is `vigil enroll`).
    private static readonly HashSet<string> KnownUnused = new(StringComparer.Ordinal)
    {
        "config-profile", "notify_time", "time-reconnect", "ip_update_interval", "force_reconnect_interval", "auto_restart",
        "crypto_method", "enrollment", "local_ip", "remote_conf",
    };

    private static readonly HashSet<string> KnownUnusedInServer = new(StringComparer.Ordinal)
    {
        "max_retries", "retry_interval", "interface_index",
    };

    public static ClientOptions Read(ConfigContext context, XElement block, ClientOptions current)
    {
        var servers = new List<ClientServer>(current.Servers);
        foreach (var element in block.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "server":
                    if (ReadServer(context, element) is { } server)
                    {
                        servers.Add(server);
                    }

                    break;
                case "server-ip" or "server-hostname":
                    context.Error(element, $"{ConfigContext.Name(element)} was replaced in Wazuh 3.0 by <server><address>…</address></server>; Vigil reads only <server> blocks");
                    break;
                case "port" or "protocol":
                    context.Error(element, $"{ConfigContext.Name(element)} goes inside a <server> block of <client>");
                    break;
                case var unused when KnownUnused.Contains(unused):
                    break;
                default:
                    context.UnknownOption(element, "client", ["server", .. KnownUnused]);
                    break;
            }
        }

        return current with { Servers = servers };
    }

    private static ClientServer? ReadServer(ConfigContext context, XElement server)
    {
        string? address = null;
        var port = ClientServer.DefaultPort;
        var valid = true;
        foreach (var element in server.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "address":
                    var text = ConfigContext.Text(element);
                    if (text.Length == 0)
                    {
                        context.Error(element, "<address> of <server> must not be empty (a manager's host name or IP address)");
                        valid = false;
                    }
                    else if (text.Any(c => char.IsWhiteSpace(c) || c is ',' or '/'))
                    {
                        context.Error(element, $"<address> of <server> must be one host name or IP address, got {ConfigContext.Shown(text)} (give each manager its own <server> block)");
                        valid = false;
                    }
                    else
                    {
                        address = text;
                    }

                    break;
                case "port":
                    if (context.Integer(element, 1, 65535) is { } number)
                    {
                        port = number;
                    }
                    else
                    {
                        valid = false;
                    }

                    break;
                case "protocol":
                    switch (ConfigContext.Text(element))
                    {
                        case "tcp":
                            break;
                        case "udp":
                            context.Warning(element, "<protocol> udp: Vigil's agents connect over TCP (mutual TLS); tcp is used");
                            break;
                        case var other:
                            context.Error(element, $"<protocol> must be tcp or udp, got {ConfigContext.Shown(other)}");
                            valid = false;
                            break;
                    }

                    break;
                case var unused when KnownUnusedInServer.Contains(unused):
                    if (context.Integer(element, 1, 1_000_000_000) is null)
                    {
                        valid = false;
                    }

                    break;
                default:
                    context.UnknownOption(element, "server", ["address", "port", "protocol", .. KnownUnusedInServer]);
                    valid = false;
                    break;
            }
        }

        if (address is null)
        {
            if (valid && server.Element("address") is null)
            {
                context.Error(server, "<server> needs an <address> (the manager's host name or IP address)");
            }

            return null;
        }

        return valid ? new ClientServer(address, port, context.Locate(server)) : null;
    }
}
