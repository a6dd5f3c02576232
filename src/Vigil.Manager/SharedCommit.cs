using System.Text;
using System.Text.Json;
using Vigil.Transport.Registry;

namespace Vigil.Manager;

/// <summary>
/// What a manager's local commit of an analysis batch holds (watermarks, outbox rows), as written first to the
/// shared database with an id: a manager killed after the shared commit and before its own redoes it at start.
/// </summary>
internal sealed record SharedCommit(string Id, IReadOnlyDictionary<string, ulong> Watermarks, IReadOnlyList<OutboxResponse> Responses)
{
    public string Encode()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id", Id);
            json.WriteStartObject("watermarks");
            foreach (var (agent, sequence) in Watermarks)
            {
                json.WriteNumber(agent, sequence);
            }

            json.WriteEndObject();
            json.WriteStartArray("responses");
            foreach (var response in Responses)
            {
                json.WriteStartObject();
                json.WriteString("agent", response.AgentId);
                json.WriteString("name", response.Name);
                json.WriteString("json", response.Json);
                json.WriteNumber("deadline_ms", response.Deadline == DateTimeOffset.MaxValue ? long.MaxValue : response.Deadline.ToUnixTimeMilliseconds());
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static SharedCommit Decode(string payload)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        var watermarks = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var property in root.GetProperty("watermarks").EnumerateObject())
        {
            watermarks[property.Name] = property.Value.GetUInt64();
        }

        var responses = new List<OutboxResponse>();
        foreach (var response in root.GetProperty("responses").EnumerateArray())
        {
            var deadline = response.GetProperty("deadline_ms").GetInt64();
            responses.Add(new OutboxResponse(
                response.GetProperty("agent").GetString()!,
                response.GetProperty("name").GetString()!,
                response.GetProperty("json").GetString()!,
                deadline == long.MaxValue ? DateTimeOffset.MaxValue : DateTimeOffset.FromUnixTimeMilliseconds(deadline)));
        }

        return new SharedCommit(root.GetProperty("id").GetString()!, watermarks, responses);
    }
}
