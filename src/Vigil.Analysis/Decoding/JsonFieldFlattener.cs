using System.Globalization;
using System.Text.Json;

namespace Vigil.Analysis.Decoding;

/// <summary>Turns a JSON object into Wazuh's dotted field names with string values (spec §3.9).</summary>
internal static class JsonFieldFlattener
{
    /// <summary>Wazuh's <c>analysisd.decoder_order_size</c>: fields beyond it are dropped.</summary>
    public const int MaxFields = 256;

    /// <summary>
    /// Flattens the JSON object at the start of <paramref name="utf8"/> straight from the reader (no document is
    /// built). With <paramref name="allowTrailingText"/> anything after the object is ignored (the AR log's
    /// " Successfully removed threat"); otherwise only white space may follow. On invalid JSON the fields are left
    /// empty and false is returned.
    /// </summary>
    public static bool TryFlatten(ReadOnlySpan<byte> utf8, EventFields fields, bool allowTrailingText)
    {
        var reader = new Utf8JsonReader(utf8);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            var prefixes = new Stack<string>();
            var prefix = "";
            var isRootClosed = false;
            while (!isRootClosed && reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    if (prefixes.Count == 0)
                    {
                        isRootClosed = true;
                    }
                    else
                    {
                        prefix = prefixes.Pop();
                    }

                    continue;
                }

                var name = reader.GetString()!; // a property name: objects hold nothing else
                reader.Read();
                var isStatic = prefixes.Count == 0 && (EventFields.IsStaticName(name) || name is "user" or "systemname");
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        prefixes.Push(prefix);
                        prefix = string.Concat(prefix, name, ".");
                        break;
                    case JsonTokenType.StartArray:
                        using (var array = JsonDocument.ParseValue(ref reader))
                        {
                            Add(fields, isStatic, prefix, name, ToFieldValue(array.RootElement), isArray: true);
                        }

                        break;
                    default:
                        Add(fields, isStatic, prefix, name, ScalarValue(ref reader), isArray: false);
                        break;
                }
            }

            if (!isRootClosed)
            {
                fields.Clear();
                return false;
            }

            // Without trailing text allowed, the reader refuses anything but white space after the object.
            while (!allowTrailingText && reader.Read())
            {
            }

            return true;
        }
        catch (JsonException)
        {
            fields.Clear();
            return false;
        }
    }

    private static void Add(EventFields fields, bool isStatic, string prefix, string name, string value, bool isArray)
    {
        if (isStatic)
        {
            fields.SetStatic(name, value);
        }
        else if (fields.Count < MaxFields)
        {
            var fullName = prefix.Length == 0 ? name : string.Concat(prefix, name);
            if (isArray)
            {
                fields.AddDynamicArray(fullName, value);
            }
            else
            {
                fields.AddDynamic(fullName, value);
            }
        }
    }

    /// <summary>The value of the scalar token the reader is on, as <see cref="ToFieldValue"/> prints it.</summary>
    public static string ScalarValue(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString()!,
        JsonTokenType.Number => reader.TryGetInt64(out var l)
            ? l.ToString(CultureInfo.InvariantCulture)
            : FormatDouble(reader.GetDouble()),
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        _ => "null",
    };

    public static void Flatten(JsonElement root, EventFields fields)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var property in root.EnumerateObject())
        {
            // Top-level keys with a static name fill the static field; nested ones never do.
            if (EventFields.IsStaticName(property.Name) || property.Name is "user" or "systemname")
            {
                if (property.Value.ValueKind is not JsonValueKind.Object)
                {
                    fields.SetStatic(property.Name, ToFieldValue(property.Value));
                    continue;
                }
            }

            Add(property.Name, property.Value, fields);
        }
    }

    private static void Add(string name, JsonElement value, EventFields fields)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in value.EnumerateObject())
            {
                Add(string.Concat(name, ".", property.Name), property.Value, fields);
            }

            return;
        }

        if (fields.Count >= MaxFields)
        {
            return;
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            fields.AddDynamicArray(name, ToFieldValue(value));
        }
        else
        {
            fields.AddDynamic(name, ToFieldValue(value));
        }
    }

    /// <summary>Numbers print as <c>%i</c> when integral, else <c>%f</c>; booleans and null as words; arrays as their JSON text.</summary>
    public static string ToFieldValue(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.TryGetInt64(out var l)
            ? l.ToString(CultureInfo.InvariantCulture)
            : FormatDouble(value.GetDouble()),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        _ => JsonSerializer.Serialize(value),
    };

    private static string FormatDouble(double d) =>
        d == Math.Floor(d) && Math.Abs(d) < int.MaxValue
            ? ((long)d).ToString(CultureInfo.InvariantCulture)
            : d.ToString("F6", CultureInfo.InvariantCulture);
}
