using System.Globalization;
using System.Text.Json;

namespace Vigil.Analysis.Decoding;

/// <summary>Turns a JSON object into Wazuh's dotted field names with string values (spec §3.9).</summary>
internal static class JsonFieldFlattener
{
    /// <summary>Wazuh's <c>analysisd.decoder_order_size</c>: fields beyond it are dropped.</summary>
    public const int MaxFields = 256;

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
