using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Vigil.Core.Configuration;
using Vigil.Core.Events;

namespace Vigil.Analysis.Alerts;

/// <summary>Builds the active-response messages of an alert (spec §5.3) for the responses bound to its rule.</summary>
internal sealed class ActiveResponseMessages(OssecConfig config)
{
    private readonly Dictionary<string, CommandOptions> _commands =
        config.Commands.GroupBy(c => c.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);

    private readonly string _originName = config.Cluster.NodeName is { Length: > 0 } node ? node : "undefined";

    private static readonly ActiveResponseLocations[] s_locations = Enum.GetValues<ActiveResponseLocations>();

    public IReadOnlyList<ActiveResponseCommand> For(Alert alert, string alertJson)
    {
        if (alert.Rule.ActiveResponses.Count == 0 || !PassesInputChecks(alert))
        {
            return [];
        }

        var result = new List<ActiveResponseCommand>();
        foreach (var ar in alert.Rule.ActiveResponses)
        {
            if (!_commands.TryGetValue(ar.Command, out var command))
            {
                continue; // The loader reports an AR naming an unknown command; nothing to run.
            }

            var json = string.Concat(Prefix(ar, command), alertJson, Suffix);
            foreach (var location in s_locations)
            {
                if (location == ActiveResponseLocations.None || !ar.Location.HasFlag(location))
                {
                    continue;
                }

                var target = location switch
                {
                    ActiveResponseLocations.Server => "000",
                    ActiveResponseLocations.Local => alert.Event.AgentId,
                    ActiveResponseLocations.DefinedAgent => ar.AgentId ?? "",
                    _ => ActiveResponseCommand.AllAgents,
                };
                result.Add(new ActiveResponseCommand(ar.WireName, location, target, json));
            }
        }

        return result;
    }

    // Wazuh skips the AR when dstuser or srcip hold characters a script could misread, or srcip is white-listed.
    private bool PassesInputChecks(Alert alert)
    {
        var user = alert.Event.Fields.GetStatic("dstuser");
        if (user is not null && !user.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '@' or '?' or '-'))
        {
            return false;
        }

        var srcip = alert.Event.Fields.GetStatic("srcip");
        if (srcip is not null)
        {
            if (!srcip.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or ':' or '_' or '-'))
            {
                return false;
            }

            if (config.Global.WhiteList.Any(w => srcip.StartsWith(w, StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return true;
    }

    // The message is the alert wrapped in text that depends only on the response and its command: that text is built
    // once per response, as the message of a placeholder alert cut around the placeholder.
    private const string Placeholder = "0";
    private const string Suffix = "}}";
    private readonly Dictionary<ActiveResponseOptions, string> _prefixes = new(ReferenceEqualityComparer.Instance);

    private string Prefix(ActiveResponseOptions ar, CommandOptions command)
    {
        if (!_prefixes.TryGetValue(ar, out var prefix))
        {
            var message = Build(ar, command, Placeholder);
            if (!message.EndsWith(Placeholder + Suffix, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("active-response message does not end with its alert");
            }

            _prefixes[ar] = prefix = message[..^(Placeholder.Length + Suffix.Length)];
        }

        return prefix;
    }

    private string Build(ActiveResponseOptions ar, CommandOptions command, string alertJson)
    {
        var buffer = new ArrayBufferWriter<byte>(alertJson.Length + 256);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteNumber("version", 1);
            w.WriteStartObject("origin");
            w.WriteString("name", _originName);
            w.WriteString("module", "wazuh-analysisd");
            w.WriteEndObject();
            w.WriteString("command", ar.WireName);
            w.WriteStartObject("parameters");
            w.WriteStartArray("extra_args");
            foreach (var arg in command.ExtraArgs)
            {
                w.WriteStringValue(arg);
            }

            w.WriteEndArray();
            w.WritePropertyName("alert");
            w.WriteRawValue(alertJson, skipInputValidation: true);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
