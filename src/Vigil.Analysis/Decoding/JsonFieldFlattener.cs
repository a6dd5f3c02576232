using System.Buffers;
using System.Globalization;
using System.Text;
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

            var prefixes = t_prefixes ??= new Stack<string>();
            prefixes.Clear();
            var prefix = "";
            var isRootClosed = false;
            Span<char> nameBuffer = stackalloc char[128];
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

                // A property name (objects hold nothing else). Below the top level only the dotted name is made into a
                // string, not the name alone.
                var isTop = prefix.Length == 0;
                // A name that is not valid text (a lone surrogate escape) is taken as docs/text.md says, not refused.
                string? name = null;
                var copied = isTop || reader.ValueSpan.Length > nameBuffer.Length ? null : JsonText.TryCopyName(ref reader, nameBuffer);
                if (copied is null)
                {
                    name = JsonText.GetString(ref reader);
                }

                var nameChars = name is null ? nameBuffer[..copied!.Value] : name.AsSpan();
                reader.Read();
                var isStatic = isTop && (EventFields.IsStaticName(name!) || name is "user" or "systemname");
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        prefixes.Push(prefix);
                        prefix = string.Concat(prefix, nameChars, ".");
                        break;
                    case JsonTokenType.StartArray:
                        Add(fields, isStatic, isTop ? name! : string.Concat(prefix, nameChars), ArrayText(ref reader), isArray: true);
                        break;
                    default:
                        Add(fields, isStatic, isTop ? name! : string.Concat(prefix, nameChars), ScalarValue(ref reader), isArray: false);
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

    [ThreadStatic]
    private static Stack<string>? t_prefixes;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_arrayBuffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_arrayWriter;

    /// <summary>The array the reader is on as compact JSON text, as <see cref="ToFieldValue"/> prints it.</summary>
    private static string ArrayText(ref Utf8JsonReader reader)
    {
        var peek = reader;
        if (peek.Read() && peek.TokenType == JsonTokenType.EndArray)
        {
            reader = peek;
            return "[]";
        }

        using var array = JsonDocument.ParseValue(ref reader);
        return ToFieldValue(array.RootElement);
    }

    private static void Add(EventFields fields, bool isStatic, string name, string value, bool isArray)
    {
        if (isStatic)
        {
            fields.SetStatic(name, value);
        }
        else if (fields.Count < MaxFields)
        {
            if (isArray)
            {
                fields.AddDynamicArray(name, value);
            }
            else
            {
                fields.AddDynamic(name, value);
            }
        }
    }

    /// <summary>The value of the scalar token the reader is on, as <see cref="ToFieldValue"/> prints it.</summary>
    public static string ScalarValue(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => JsonText.GetString(ref reader),
        JsonTokenType.Number => reader.TryGetInt64(out var l)
            ? l.ToString(CultureInfo.InvariantCulture)
            : JsonText.Number(reader.ValueSpan),
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
            var name = JsonText.Name(property);
            if (EventFields.IsStaticName(name) || name is "user" or "systemname")
            {
                if (property.Value.ValueKind is not JsonValueKind.Object)
                {
                    fields.SetStatic(name, ToFieldValue(property.Value));
                    continue;
                }
            }

            Add(name, property.Value, fields);
        }
    }

    private static void Add(string name, JsonElement value, EventFields fields)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in value.EnumerateObject())
            {
                Add(string.Concat(name, ".", JsonText.Name(property)), property.Value, fields);
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
        JsonValueKind.String => JsonText.GetString(value),
        JsonValueKind.Number => value.TryGetInt64(out var l)
            ? l.ToString(CultureInfo.InvariantCulture)
            : JsonText.Number(Encoding.UTF8.GetBytes(value.GetRawText())),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        _ => CompactJson(value),
    };

    private static void WriteLenient(JsonElement value, Utf8JsonWriter writer)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in value.EnumerateObject())
                {
                    writer.WritePropertyName(JsonText.Name(property));
                    WriteLenient(property.Value, writer);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    WriteLenient(item, writer);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(JsonText.GetString(value));
                break;
            default:
                value.WriteTo(writer);
                break;
        }
    }

    // What JsonSerializer.Serialize prints for an element (default escaping, no indentation), with one writer reused.
    private static string CompactJson(JsonElement value)
    {
        var buffer = t_arrayBuffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        var writer = t_arrayWriter ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        writer.Reset(buffer);
        try
        {
            value.WriteTo(writer);
        }
        catch (InvalidOperationException)
        {
            // A string that is not valid text (a lone surrogate escape): written again, element by element, as Vigil takes it.
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            WriteLenient(value, writer);
        }

        writer.Flush();
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
