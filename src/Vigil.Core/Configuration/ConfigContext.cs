using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using Vigil.Core.Diagnostics;

namespace Vigil.Core.Configuration;

/// <summary>
/// What every block reader shares: the file name used in messages, the load options and the diagnostics,
/// plus the value parsers that turn a bad value into one clear error instead of an exception.
/// </summary>
internal sealed class ConfigContext(string file, ConfigLoadOptions options, DiagnosticBag diagnostics)
{
    private const int MaxShownValueLength = 80;

    public string File { get; } = file;

    public ConfigLoadOptions Options { get; } = options;

    public DiagnosticBag Diagnostics { get; } = diagnostics;

    public static int LineOf(XObject node) =>
        node is IXmlLineInfo info && info.HasLineInfo() ? info.LineNumber : 0;

    public SourceLocation Locate(XObject node) => new(File, LineOf(node));

    public void Error(XObject at, string message) => Diagnostics.Error(File, LineOf(at), message);

    public void Warning(XObject at, string message) => Diagnostics.Warning(File, LineOf(at), message);

    /// <summary>The element's text with surrounding white space removed, as Wazuh's own parser keeps it.</summary>
    public static string Text(XElement element) => element.Value.Trim();

    /// <summary>Names an element the way messages show it: <c>&lt;frequency&gt;</c>.</summary>
    public static string Name(XElement element) => $"<{element.Name.LocalName}>";

    /// <summary>Names an attribute with its element: <c>realtime on &lt;directories&gt;</c>.</summary>
    public static string Name(XAttribute attribute) =>
        $"attribute {attribute.Name.LocalName} on <{attribute.Parent?.Name.LocalName}>";

    /// <summary>Quotes a value for a message, shortened so one line stays readable.</summary>
    public static string Shown(string value) =>
        value.Length <= MaxShownValueLength ? $"'{value}'" : $"'{value[..MaxShownValueLength]}…'";

    /// <summary>Parses yes/no. Wazuh compares with <c>strcmp</c>, so only lower-case <c>yes</c> and <c>no</c> are valid.</summary>
    public bool? YesNo(XElement element) => YesNo(element, Name(element), Text(element));

    public bool? YesNo(XAttribute attribute) => YesNo(attribute, Name(attribute), attribute.Value.Trim());

    private bool? YesNo(XObject at, string what, string value)
    {
        switch (value)
        {
            case "yes":
                return true;
            case "no":
                return false;
            default:
                var hint = value.Equals("yes", StringComparison.OrdinalIgnoreCase) || value.Equals("no", StringComparison.OrdinalIgnoreCase)
                    ? " (lower case, as Wazuh requires)"
                    : "";
                Error(at, $"{what} must be 'yes' or 'no'{hint}, got {Shown(value)}");
                return null;
        }
    }

    /// <summary>Parses a plain whole number (digits only, like Wazuh's <c>OS_StrIsNum</c>) within a range.</summary>
    public int? Integer(XElement element, int min, int max, string? unit = null) =>
        Integer(element, Name(element), Text(element), min, max, unit);

    public int? Integer(XAttribute attribute, int min, int max, string? unit = null) =>
        Integer(attribute, Name(attribute), attribute.Value.Trim(), min, max, unit);

    private int? Integer(XObject at, string what, string value, int min, int max, string? unit)
    {
        var negative = min < 0 && value.StartsWith('-');
        if (!TryParseDigits(negative ? value[1..] : value, out var number))
        {
            Error(at, $"{what} must be a whole number{(unit is null ? "" : $" of {unit}")}, got {Shown(value)}");
            return null;
        }

        number = negative ? -number : number;
        var unitText = unit is null ? "" : $" {unit}";
        if (number < min || number > max)
        {
            var range = (min, max) switch
            {
                (1, int.MaxValue) => $"a positive whole number{(unit is null ? "" : $" of {unit}")}",
                (_, int.MaxValue) => $"at least {min}{unitText}",
                _ => $"from {min} to {max}{unitText}",
            };
            Error(at, $"{what} must be {range}, got {Shown(value)}");
            return null;
        }

        return (int)number;
    }

    public static bool TryParseDigits(string value, out long number)
    {
        number = 0;
        return value.Length is > 0 and <= 18
            && value.All(char.IsAsciiDigit)
            && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }

    /// <summary>Parses a size the way Wazuh's <c>read_data_unit</c> does: <c>1GB</c>, <c>50MB</c>, <c>512KB</c>,
    /// or a plain number of kilobytes; returns bytes.</summary>
    public long? DataSize(XElement element, long minBytes) => DataSize(element, Name(element), Text(element), minBytes);

    public long? DataSize(XAttribute attribute, long minBytes) =>
        DataSize(attribute, Name(attribute), attribute.Value.Trim(), minBytes);

    private long? DataSize(XObject at, string what, string value, long minBytes)
    {
        long? bytes = null;
        if (TryParseDigits(value, out var kilobytes))
        {
            bytes = kilobytes * 1024;
        }
        else if (value.Length > 2 && value[^1] is 'B' or 'b' && TryParseDigits(value[..^2], out var count))
        {
            bytes = char.ToUpperInvariant(value[^2]) switch
            {
                'K' => count << 10,
                'M' => count << 20,
                'G' => count << 30,
                _ => null,
            };
        }

        if (bytes is null)
        {
            Error(at, $"{what} must be a size such as 1GB, 50MB or 512KB (a plain number means KB), got {Shown(value)}");
            return null;
        }

        if (bytes < minBytes)
        {
            Error(at, $"{what} must be at least {minBytes / 1024}KB, got {Shown(value)}");
            return null;
        }

        return bytes;
    }

    /// <summary>Parses a duration the way Wazuh's <c>w_parse_time</c> does: a number of seconds, optionally
    /// followed by s, m, h, d or w; returns seconds.</summary>
    public int? Duration(XElement element, int minSeconds)
    {
        var value = Text(element);
        var digits = value.Length > 0 && value[^1] is 's' or 'm' or 'h' or 'd' or 'w' ? value[..^1] : value;
        if (!TryParseDigits(digits, out var number))
        {
            Error(element, $"{Name(element)} must be a time such as 300, 300s, 5m, 1h, 1d or 1w, got {Shown(value)}");
            return null;
        }

        var seconds = number * (value[^1] switch
        {
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 604800,
            _ => 1,
        });

        if (seconds < minSeconds || seconds > int.MaxValue)
        {
            Error(element, $"{Name(element)} must be from {minSeconds} seconds to {int.MaxValue} seconds, got {Shown(value)}");
            return null;
        }

        return (int)seconds;
    }

    /// <summary>Splits a comma list, trimming spaces around entries and dropping empty ones.</summary>
    public static IReadOnlyList<string> CommaList(string value) =>
        value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Reports an element that does not belong in its block, listing what does.</summary>
    public void UnknownOption(XElement element, string block, IEnumerable<string> allowed) =>
        Error(element, $"{Name(element)} is not a valid option of <{block}>; allowed: {string.Join(", ", allowed)}");
}
