using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using Vigil.Core.Diagnostics;

namespace Vigil.Core.Configuration;

/// <summary>
/// Parses an <c>ossec.conf</c> into one element holding every top-level node. The file is not one XML
/// document: Wazuh accepts several <c>&lt;ossec_config&gt;</c> roots one after another, so the text is
/// wrapped in a synthetic root placed on the first line, which keeps every line number as in the file.
/// </summary>
internal static partial class ConfigXml
{
    public const string SyntheticRoot = "vigil-config-file";

    public static XElement? Parse(string xml, string file, DiagnosticBag diagnostics)
    {
        var text = EscapeBareAmpersands(BlankDeclaration(xml));
        try
        {
            var document = XDocument.Parse($"<{SyntheticRoot}>{text}\n</{SyntheticRoot}>", LoadOptions.SetLineInfo);
            return document.Root;
        }
        catch (XmlException e)
        {
            // The parser quotes tokens from the text; on a line holding a secret, say where but not what.
            var message = LineAt(xml, e.LineNumber).Contains("api_key", StringComparison.OrdinalIgnoreCase)
                ? "the line with <api_key> is not well-formed (details withheld so the key is not printed)"
                : WithoutPosition(e.Message);
            diagnostics.Error(file, e.LineNumber, $"malformed XML: {message}");
            return null;
        }
    }

    /// <summary>An XML declaration is only valid at the very start of a document, which the wrapper is not;
    /// it is replaced by spaces (newlines kept) so that lines do not move.</summary>
    private static string BlankDeclaration(string xml)
    {
        var start = 0;
        if (xml.Length > 0 && xml[0] == '\uFEFF')
        {
            start = 1;
        }

        while (start < xml.Length && char.IsWhiteSpace(xml[start]))
        {
            start++;
        }

        if (string.CompareOrdinal(xml, start, "<?xml", 0, 5) != 0)
        {
            return xml;
        }

        var end = xml.IndexOf("?>", start, StringComparison.Ordinal);
        if (end < 0)
        {
            return xml;
        }

        var blank = new string(xml[start..(end + 2)].Select(c => c == '\n' ? '\n' : ' ').ToArray());
        return string.Concat(xml.AsSpan(0, start), blank, xml.AsSpan(end + 2));
    }

    /// <summary>Wazuh's parser takes a bare <c>&amp;</c> literally (shell commands in <c>&lt;localfile&gt;</c> use
    /// <c>&amp;&amp;</c>); a strict XML parser rejects it, so a bare one is escaped first.</summary>
    // Without an '&' there is nothing to escape (and Regex.Replace's machinery is not compiled at start for nothing).
    private static string EscapeBareAmpersands(string xml) => xml.Contains('&', StringComparison.Ordinal) ? BareAmpersand().Replace(xml, "&amp;") : xml;

    private static string LineAt(string text, int line)
    {
        var lines = text.Split('\n');
        return line >= 1 && line <= lines.Length ? lines[line - 1] : "";
    }

    private static string WithoutPosition(string message) => TrailingPosition().Replace(message, "").TrimEnd();

    [GeneratedRegex(@"&(?!(?:[A-Za-z_][A-Za-z0-9._-]*|#[0-9]+|#x[0-9A-Fa-f]+);)")]
    private static partial Regex BareAmpersand();

    [GeneratedRegex(@"\s*Line \d+, position \d+\.\s*$")]
    private static partial Regex TrailingPosition();
}
