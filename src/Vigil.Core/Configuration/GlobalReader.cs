using System.Xml.Linq;

namespace Vigil.Core.Configuration;

/// <summary>Reads <c>&lt;global&gt;</c>; a later block overrides earlier values and adds white_list entries.</summary>
internal static class GlobalReader
{
    private static readonly string[] Implemented =
        ["jsonout_output", "alerts_log", "logall", "logall_json", "email_notification", "white_list", "min_free_disk"];

    // Manager options Vigil does not act on (mail, outputs, agent limits): accepted without noise, so a
    // stock manager configuration loads quietly. Anything else is unknown and warned about.
    private static readonly HashSet<string> KnownUnused = new(StringComparer.Ordinal)
    {
        "email_to", "email_from", "email_reply_to", "smtp_server", "email_maxperhour", "email_log_source",
        "email_idsname", "helo_server", "agents_disconnection_time", "agents_disconnection_alert_time",
        "update_check", "memory_size", "stats", "host_information", "prelude", "prelude_profile",
        "prelude_log_level", "zeromq_output", "zeromq_uri", "zeromq_client_cert", "zeromq_server_cert",
        "geoip_db_path", "geoipdb", "custom_alert_output", "rotate_interval", "max_output_size", "queue_size",
        "picviz_output", "picviz_socket", "limits", "cluster_name", "cluster_node_name", "alerts_log_json",
        "logall_json_output", "hostname", "host_name", "enable_stats", "logall_out",
    };

    public static GlobalOptions Read(ConfigContext context, XElement block, GlobalOptions current)
    {
        var options = current;
        var whiteList = new List<string>(current.WhiteList);
        foreach (var element in block.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "jsonout_output":
                    options = context.YesNo(element) is { } json ? options with { JsonOutput = json } : options;
                    break;
                case "alerts_log":
                    options = context.YesNo(element) is { } log ? options with { AlertsLog = log } : options;
                    break;
                case "logall":
                    options = context.YesNo(element) is { } all ? options with { LogAll = all } : options;
                    break;
                case "logall_json":
                    options = context.YesNo(element) is { } allJson ? options with { LogAllJson = allJson } : options;
                    break;
                case "email_notification":
                    options = context.YesNo(element) is { } email ? options with { EmailNotification = email } : options;
                    break;
                case "white_list":
                    var address = ConfigContext.Text(element);
                    if (address.Length == 0)
                    {
                        context.Error(element, "<white_list> must hold an address or network, got an empty value");
                    }
                    else
                    {
                        whiteList.Add(address);
                    }

                    break;
                case "min_free_disk":
                    options = context.DataSize(element, 0) is { } minFree ? options with { MinFreeDiskBytes = minFree } : options;
                    break;
                case var name when KnownUnused.Contains(name):
                    break;
                default:
                    context.Warning(element, $"{ConfigContext.Name(element)} is not a known option of <global> and is ignored; "
                        + $"Vigil reads {string.Join(", ", Implemented)}");
                    break;
            }
        }

        return options with { WhiteList = whiteList };
    }
}
