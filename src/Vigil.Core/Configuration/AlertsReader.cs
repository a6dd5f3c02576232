using System.Xml.Linq;

namespace Vigil.Core.Configuration;

/// <summary>Reads <c>&lt;alerts&gt;</c>; a later block overrides earlier values.</summary>
internal static class AlertsReader
{
    public const int MaxRuleLevel = 16;

    public static AlertsOptions Read(ConfigContext context, XElement block, AlertsOptions current)
    {
        var options = current;
        foreach (var element in block.Elements())
        {
            switch (element.Name.LocalName)
            {
                case "log_alert_level":
                    options = context.Integer(element, 1, MaxRuleLevel) is { } log ? options with { LogAlertLevel = log } : options;
                    break;
                case "email_alert_level":
                    options = context.Integer(element, 1, MaxRuleLevel) is { } mail ? options with { EmailAlertLevel = mail } : options;
                    break;
                case "use_geoip":
                    context.YesNo(element);
                    break;
                default:
                    context.UnknownOption(element, "alerts", ["log_alert_level", "email_alert_level", "use_geoip"]);
                    break;
            }
        }

        return options;
    }
}
