using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vigil.Response;

/// <summary>
/// The JSON the responses write, without reflection (the native remove-threat is trimmed and has none): strings are
/// quoted through a source-generated context, documents are JsonNode trees written with <see cref="Options"/>.
/// Non-ASCII text stays as it is (Wazuh's logs and decoders read UTF-8), control characters are escaped.
/// </summary>
internal static class ResponseJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = ResponseJsonContext.Default,
    };

    private static readonly ResponseJsonContext s_context = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    /// <summary><paramref name="text"/> as a JSON string literal (<c>null</c> for null), so a newline in a name cannot break a log line.</summary>
    public static string Quote(string? text) => JsonSerializer.Serialize(text, s_context.String);
}

[JsonSerializable(typeof(string))]
internal sealed partial class ResponseJsonContext : JsonSerializerContext;
