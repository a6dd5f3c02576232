using System.Globalization;
using System.Text;

namespace Vigil.Intel;

/// <summary>
/// An ordered JSON object rendered exactly as Python's <c>json.dumps</c> does with its defaults
/// (separators ", " and ": ", ensure_ascii, insertion order), so that Vigil's messages are byte-for-byte
/// those of Wazuh's integration scripts for the same data.
/// </summary>
internal sealed class PyJson
{
    // A key no caller can pass (compared by reference) marking a pre-rendered fragment.
    private static readonly string Rendered = new(['\0']);
    private readonly List<KeyValuePair<string, object?>> _members = [];

    public PyJson Add(string key, object? value)
    {
        _members.Add(new(key, value));
        return this;
    }

    /// <summary>Appends members already rendered by <see cref="RenderMembers"/> (a cached fragment).</summary>
    public PyJson AddRendered(string members)
    {
        if (members.Length > 0)
        {
            _members.Add(new(Rendered, members));
        }

        return this;
    }

    /// <summary>Renders the members alone, without braces, for <see cref="AddRendered"/>.</summary>
    public string RenderMembers()
    {
        var text = ToString();
        return text[1..^1];
    }

    public override string ToString()
    {
        var builder = new StringBuilder(1024);
        Write(builder, this);
        return builder.ToString();
    }

    private static void Write(StringBuilder builder, object? value)
    {
        switch (value)
        {
            case null:
                builder.Append("null");
                break;
            case string text:
                WriteString(builder, text);
                break;
            case bool flag:
                builder.Append(flag ? "true" : "false");
                break;
            case int number:
                builder.Append(number.ToString(CultureInfo.InvariantCulture));
                break;
            case long number:
                builder.Append(number.ToString(CultureInfo.InvariantCulture));
                break;
            case PyJson json:
                builder.Append('{');
                for (var i = 0; i < json._members.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(", ");
                    }

                    if (ReferenceEquals(json._members[i].Key, Rendered))
                    {
                        builder.Append((string)json._members[i].Value!);
                        continue;
                    }

                    WriteString(builder, json._members[i].Key);
                    builder.Append(": ");
                    Write(builder, json._members[i].Value);
                }

                builder.Append('}');
                break;
            case IEnumerable<string> items:
                builder.Append('[');
                var first = true;
                foreach (var item in items)
                {
                    if (!first)
                    {
                        builder.Append(", ");
                    }

                    first = false;
                    WriteString(builder, item);
                }

                builder.Append(']');
                break;
            default:
                throw new ArgumentException($"unsupported JSON value type {value.GetType().Name}", nameof(value));
        }
    }

    // Python's ensure_ascii encoder: the short escapes for \" \\ \n \r \t \b \f, and \uXXXX (lower-case hex,
    // one per UTF-16 unit, so astral characters become surrogate pairs) for every other character outside
    // printable ASCII. '/' is not escaped.
    private static void WriteString(StringBuilder builder, string text)
    {
        builder.Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7e)
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        builder.Append('"');
    }
}
