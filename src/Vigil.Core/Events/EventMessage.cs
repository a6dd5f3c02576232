using System.Text;

namespace Vigil.Core.Events;

/// <summary>The agent an event came from: id "000" is the manager itself.</summary>
public sealed record AgentIdentity(string Id, string Name, string? Ip)
{
    /// <summary>Whether this is the manager (agent 000).</summary>
    public bool IsManager => Id == "000";
}

/// <summary>
/// One event in Wazuh's queue form <c>Q:LOCATION:MESSAGE</c>. For agents the location is
/// <c>[001] (name) ip->syscheck</c>; for the manager it is the bare location (e.g. <c>syscheck</c>).
/// </summary>
public sealed record EventMessage(char Queue, string Location, string Message)
{
    /// <summary>Queue 1: log lines (logcollector, integrations).</summary>
    public const char LocalFileQueue = '1';

    /// <summary>Queue 8: FIM (syscheck).</summary>
    public const char SyscheckQueue = '8';

    /// <summary>Parses <c>Q:LOCATION:MESSAGE</c>, unescaping <c>|:</c> and <c>||</c> in the location; null when the line is not in that form.</summary>
    public static EventMessage? TryParse(string line)
    {
        if (line.Length < 4 || line[1] != ':')
        {
            return null;
        }

        var location = new StringBuilder();
        for (var i = 2; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '|' && i + 1 < line.Length && (line[i + 1] == ':' || line[i + 1] == '|'))
            {
                location.Append(line[++i]);
            }
            else if (c == ':')
            {
                // Agents' locations hold "->" then the real location, which may itself contain ':' only escaped.
                return new EventMessage(line[0], location.ToString(), line[(i + 1)..]);
            }
            else
            {
                location.Append(c);
            }
        }

        return null;
    }

    /// <summary>Builds the location an agent's event carries: <c>[id] (name) ip->location</c>.</summary>
    public static string AgentLocation(AgentIdentity agent, string location) =>
        agent.IsManager ? location : $"[{agent.Id}] ({agent.Name}) {agent.Ip ?? "any"}->{location}";

    /// <summary>Renders back to the queue form, escaping <c>:</c> and <c>|</c> in the location.</summary>
    public override string ToString() =>
        $"{Queue}:{Location.Replace("|", "||", StringComparison.Ordinal).Replace(":", "|:", StringComparison.Ordinal)}:{Message}";

    /// <summary>Splits the location into the agent (null for the manager form) and the real location after <c>-&gt;</c>.</summary>
    public (AgentIdentity? Agent, string Location) SplitLocation()
    {
        // "[001] (name) 10.0.0.5->syscheck"
        if (Location.Length > 0 && Location[0] == '[')
        {
            var close = Location.IndexOf("] (", StringComparison.Ordinal);
            var arrow = Location.IndexOf("->", StringComparison.Ordinal);
            if (close > 1 && arrow > close)
            {
                var nameEnd = Location.LastIndexOf(") ", arrow, StringComparison.Ordinal);
                if (nameEnd > close + 3)
                {
                    var id = Location[1..close];
                    var name = Location[(close + 3)..nameEnd];
                    var ip = Location[(nameEnd + 2)..arrow];
                    return (new AgentIdentity(id, name, ip is "" or "any" ? null : ip), Location[(arrow + 2)..]);
                }
            }
        }

        return (null, Location);
    }
}

/// <summary>Where producers (FIM, intelligence, active response) hand events to analysis.</summary>
public interface IEventSink
{
    /// <summary>Accepts one event; returns once it is durably queued or processed.</summary>
    public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// Accepts events in order; returns once every one is durably queued or processed (a durable sink commits them
    /// together). A key, when given, names an event its producer may publish again after a crash (a row it had not
    /// yet deleted): a sink that remembers keys takes each key once.
    /// </summary>
    public async ValueTask PublishBatchAsync(IReadOnlyList<EventMessage> messages, IReadOnlyList<string>? keys, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            await PublishAsync(message, cancellationToken);
        }
    }

    /// <summary>
    /// Accepts events of one producer's stream in order, each with its position there (increasing, never reused in
    /// <paramref name="stream"/>); returns once every one is durably queued or processed. The producer may publish
    /// positions again after a crash (rows it had not yet deleted): a sink that remembers how far each stream came
    /// takes each position once, at the cost of one number per stream instead of one key per event. By default, the
    /// positions are keys (<c>STREAM:POSITION</c>).
    /// </summary>
    public ValueTask PublishStreamAsync(IReadOnlyList<EventMessage> messages, string stream, IReadOnlyList<long> positions, CancellationToken cancellationToken) =>
        PublishBatchAsync(messages, [.. positions.Select(p => stream + ":" + p.ToString(System.Globalization.CultureInfo.InvariantCulture))], cancellationToken);
}
