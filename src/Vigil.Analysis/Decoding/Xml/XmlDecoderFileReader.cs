using System.Xml.Linq;
using Vigil.Analysis.Xml;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Patterns;

namespace Vigil.Analysis.Decoding.Xml;

/// <summary>
/// Reads Wazuh decoder files (<c>&lt;decoder name="…"&gt;</c> elements) with Wazuh's rules: text as written,
/// repeated <c>regex</c>/<c>prematch</c> elements joined, <c>prematch</c> and <c>regex</c> OSRegex by default
/// (or PCRE2), <c>program_name</c> OSMatch by default. Every problem is reported at file:line and the decoder is left
/// out; an element Vigil does not implement is refused by name with the reason.
/// </summary>
internal sealed class XmlDecoderFileReader(DiagnosticBag diagnostics)
{
    // Wazuh's static fields a decoder's <order> may name; any other name is a dynamic field.
    private static readonly HashSet<string> s_categories = new(StringComparer.Ordinal)
    {
        "firewall", "ids", "web-log", "syslog", "squid", "windows", "host-information", "ossec",
    };

    private static readonly HashSet<string> s_unsupportedPlugins = new(StringComparer.Ordinal)
    {
        "PF_Decoder", "SymantecWS_Decoder", "SonicWall_Decoder", "OSSECAlert_Decoder",
    };

    private string _file = "";

    /// <summary>Names of decoders left out because of an element Vigil refuses (so that their children say why).</summary>
    public Dictionary<string, string> Refused { get; } = new(StringComparer.Ordinal);

    public List<XmlDecoder> Read(string path) => ReadText(File.ReadAllText(path), path);

    public List<XmlDecoder> ReadText(string text, string fileName)
    {
        _file = fileName;
        var decoders = new List<XmlDecoder>();
        XElement root;
        try
        {
            root = OsXml.Parse(text);
        }
        catch (OsXmlException ex)
        {
            diagnostics.Error(_file, ex.Line, $"malformed decoder file: {ex.Message}");
            return decoders;
        }

        var variables = new List<(string Name, string Value)>();
        foreach (var element in root.Elements())
        {
            if (element.Name.LocalName == "var")
            {
                if (element.Attribute("name")?.Value is { Length: > 0 } name)
                {
                    variables.RemoveAll(v => v.Name == name);
                    variables.Add((name, element.Value));
                    variables.Sort((a, b) => b.Name.Length.CompareTo(a.Name.Length));
                }
                else
                {
                    Error(element, "<var> needs a name attribute");
                }

                continue;
            }

            if (!string.Equals(element.Name.LocalName, "decoder", StringComparison.OrdinalIgnoreCase))
            {
                Error(element, $"unexpected <{element.Name.LocalName}> in a decoder file: expected <decoder name=\"…\">");
                continue;
            }

            if (ReadDecoder(element, variables) is { } decoder)
            {
                decoders.Add(decoder);
            }
        }

        return decoders;
    }

    private static string Expand(string value, List<(string Name, string Value)> variables)
    {
        if (variables.Count == 0 || !value.Contains('$'))
        {
            return value;
        }

        foreach (var (name, replacement) in variables)
        {
            value = value.Replace("$" + name, replacement, StringComparison.Ordinal);
        }

        return value;
    }

    private XmlDecoder? ReadDecoder(XElement element, List<(string Name, string Value)> variables)
    {
        var attributes = element.Attributes().ToList();
        var name = element.Attribute("name")?.Value;
        if (string.IsNullOrEmpty(name) || attributes.Any(a => a.Name.LocalName is not ("name" or "status")))
        {
            Error(element, "<decoder> needs a name attribute (and may only have name and status)");
            return null;
        }

        var decoder = new XmlDecoder { Name = name, Source = new SourceLocation(_file, OsXml.LineOf(element)) };
        var errors = diagnostics.Items.Count(d => d.Severity == DiagnosticSeverity.Error);
        string? regexText = null, prematchText = null, programNameText = null;
        var regexType = PatternType.OsRegex;
        var prematchType = PatternType.OsRegex;
        var programNameType = PatternType.OsMatch;
        XElement? regexElement = null, prematchElement = null, programNameElement = null;
        string? refusal = null;

        foreach (var child in element.Elements())
        {
            var value = Expand(child.Value, variables);
            switch (child.Name.LocalName.ToLowerInvariant())
            {
                case "parent":
                    decoder.Parent = (decoder.Parent ?? "") + value;
                    break;
                case "regex":
                    var regexOffset = ReadOffset(child);
                    if (regexText is not null && regexOffset != DecoderOffset.None)
                    {
                        Error(child, $"decoder '{name}': a second <regex> cannot have an offset");
                    }

                    if (regexOffset != DecoderOffset.None)
                    {
                        decoder.RegexOffset = regexOffset;
                    }

                    regexType = ReadType(child, name, PatternType.OsRegex, allowOsMatch: false);
                    regexText = (regexText ?? "") + value;
                    regexElement = child;
                    break;
                case "prematch":
                    var prematchOffset = ReadOffset(child);
                    if (prematchText is not null && prematchOffset != DecoderOffset.None)
                    {
                        Error(child, $"decoder '{name}': a second <prematch> cannot have an offset");
                    }

                    if (prematchOffset != DecoderOffset.None)
                    {
                        decoder.PrematchOffset = prematchOffset;
                    }

                    prematchType = ReadType(child, name, PatternType.OsRegex, allowOsMatch: false);
                    prematchText = (prematchText ?? "") + value;
                    prematchElement = child;
                    break;
                case "program_name":
                    programNameType = ReadType(child, name, PatternType.OsMatch, allowOsMatch: true);
                    programNameText = (programNameText ?? "") + value;
                    programNameElement = child;
                    break;
                case "ftscomment":
                    decoder.FtsComment = value;
                    break;
                case "use_own_name":
                    decoder.UseOwnName = value == "true";
                    break;
                case "plugin_decoder":
                    if (value == "JSON_Decoder")
                    {
                        decoder.IsJsonPlugin = true;
                        decoder.PluginOffset = ReadOffset(child);
                    }
                    else if (s_unsupportedPlugins.Contains(value))
                    {
                        refusal = $"<plugin_decoder>{value}</plugin_decoder> is not supported by Vigil (only JSON_Decoder is)";
                        Error(child, $"decoder '{name}' left out: {refusal}");
                    }
                    else
                    {
                        Error(child, $"decoder '{name}': unknown <plugin_decoder> '{value}'");
                    }

                    break;
                case "json_null_field":
                    decoder.JsonNull = value.ToLowerInvariant() switch
                    {
                        "discard" => JsonNullHandling.Discard,
                        "string" or "empty" => JsonNullHandling.AsString,
                        _ => Warn(child, $"decoder '{name}': <json_null_field> '{value}' is not discard, string or empty: null is kept as \"null\"", JsonNullHandling.AsString),
                    };
                    break;
                case "json_array_structure":
                    if (!string.Equals(value, "array", StringComparison.OrdinalIgnoreCase))
                    {
                        refusal = $"<json_array_structure>{value}</json_array_structure> is not supported by Vigil (arrays are kept as JSON text, 'array')";
                        Error(child, $"decoder '{name}' left out: {refusal}");
                    }

                    break;
                case "type":
                    if (s_categories.Contains(value))
                    {
                        decoder.Category = value == "host-information" ? "host-info" : value;
                    }
                    else
                    {
                        Error(child, $"decoder '{name}': invalid decoder type '{value}' (firewall, ids, web-log, syslog, squid, windows, host-information, ossec)");
                    }

                    break;
                case "order":
                    var order = value.Split(',').Select(f => f.Trim(' ')).Select(f => f.Split(' ')[0]).ToList();
                    if (order.Any(f => f.Length == 0))
                    {
                        Error(child, $"decoder '{name}': empty field name in <order> '{value}'");
                    }

                    decoder.Order = order;
                    break;
                case "fts":
                    decoder.Fts = [.. value.Split(',').Select(f => f.Trim(' '))];
                    break;
                case "accumulate":
                    diagnostics.Warning(_file, OsXml.LineOf(child), $"decoder '{name}': <accumulate> is not implemented by Vigil: fields of earlier events with the same id are not carried over; the decoder loads without it");
                    break;
                default:
                    Error(child, $"invalid element <{child.Name.LocalName}> in decoder '{name}'");
                    break;
            }
        }

        if (prematchText is null && decoder.Parent is null && programNameText is null)
        {
            Error(element, $"decoder '{name}' needs a <prematch>, a <parent> or a <program_name>");
        }

        if ((regexText is null && (decoder.Fts.Count > 0 || decoder.Order.Count > 0)) || (regexText is not null && decoder.Order.Count == 0))
        {
            Error(element, $"decoder '{name}': <regex> and <order> go together (an <fts> needs them too)");
        }

        if (decoder.RegexOffset == DecoderOffset.AfterParent && decoder.Parent is null)
        {
            Error(element, $"decoder '{name}': offset after_parent needs a <parent>");
        }

        if (decoder.RegexOffset == DecoderOffset.AfterPrematch)
        {
            if (decoder.Parent is null)
            {
                decoder.RegexOffset = DecoderOffset.AfterParent;
            }
            else if (prematchText is null)
            {
                Error(element, $"decoder '{name}': offset after_prematch needs a <prematch>");
            }
        }

        if (decoder.RegexOffset == DecoderOffset.AfterRegex && (decoder.Parent is null || regexText is null))
        {
            Error(element, $"decoder '{name}': offset after_regex needs a <parent> and a <regex>");
        }

        if (decoder.PrematchOffset != DecoderOffset.None && (decoder.PrematchOffset != DecoderOffset.AfterParent || decoder.Parent is null))
        {
            Error(element, $"decoder '{name}': a <prematch> offset can only be after_parent, in a decoder with a <parent>");
        }

        if ((decoder.PluginOffset == DecoderOffset.AfterParent && decoder.Parent is null) || (decoder.PluginOffset == DecoderOffset.AfterPrematch && prematchText is null)
            || decoder.PluginOffset == DecoderOffset.AfterRegex)
        {
            Error(element, $"decoder '{name}': invalid <plugin_decoder> offset");
        }

        decoder.Prematch = Compile(prematchElement, prematchText, prematchType, name);
        decoder.ProgramName = Compile(programNameElement, programNameText, programNameType, name);
        decoder.Regex = Compile(regexElement, regexText, regexType, name);
        if (decoder.IsJsonPlugin && (regexText is not null || decoder.Order.Count > 0))
        {
            Error(element, $"decoder '{name}': a <plugin_decoder> cannot have a <regex> or an <order>");
        }

        if (decoder.Fts.Count > 0)
        {
            var known = new HashSet<string>(decoder.Order, StringComparer.OrdinalIgnoreCase) { "dstuser", "user", "srcuser", "srcip", "dstip", "id", "location", "data", "extra_data", "system_name", "name" };
            foreach (var field in decoder.Fts.Where(f => !known.Contains(f)))
            {
                Error(element, $"decoder '{name}': <fts> field '{field}' is not in its <order>");
            }
        }

        if (refusal is not null)
        {
            Refused[name] = refusal;
        }

        return diagnostics.Items.Count(d => d.Severity == DiagnosticSeverity.Error) > errors ? null : decoder;
    }

    private Pattern? Compile(XElement? element, string? text, PatternType type, string name)
    {
        if (element is null || text is null)
        {
            return null;
        }

        if (!Pattern.TryCompile(text, type, false, out var pattern, out var error))
        {
            Error(element, $"decoder '{name}' <{element.Name.LocalName}>: {error}");
            return null;
        }

        if (pattern.EngineNote is { } note)
        {
            diagnostics.Warning(_file, OsXml.LineOf(element), $"decoder '{name}' <{element.Name.LocalName}>: {note}");
        }

        return pattern;
    }

    private DecoderOffset ReadOffset(XElement element) => element.Attribute("offset")?.Value switch
    {
        null => DecoderOffset.None,
        "after_parent" => DecoderOffset.AfterParent,
        "after_prematch" => DecoderOffset.AfterPrematch,
        "after_regex" => DecoderOffset.AfterRegex,
        var other => Warn(element, $"<{element.Name.LocalName}> offset '{other}' is not after_parent, after_prematch or after_regex: the whole log is read", DecoderOffset.None),
    };

    private PatternType ReadType(XElement element, string name, PatternType fallback, bool allowOsMatch)
    {
        var attribute = element.Attribute("type")?.Value;
        if (attribute is null)
        {
            return fallback;
        }

        if (Pattern.TryParseType(attribute, out var type) && (allowOsMatch || type != PatternType.OsMatch))
        {
            return type;
        }

        return Warn(element, $"decoder '{name}': <{element.Name.LocalName}> type '{attribute}' is not valid here: {fallback} is used", fallback);
    }

    private T Warn<T>(XElement element, string message, T value)
    {
        diagnostics.Warning(_file, OsXml.LineOf(element), message);
        return value;
    }

    private void Error(XElement element, string message) => diagnostics.Error(_file, OsXml.LineOf(element), message);
}
