using System.Collections.Concurrent;
using System.Text.Json;
using Vigil.Core.Events;
using Vigil.Web.Api;

namespace Vigil.Manager;

/// <summary>
/// The agents' full scans as their scan_progress messages tell them (read by the analysis loop from the events it
/// takes): the scan under way, if any, and the last one that ended. Held in memory by the manager the agent sends
/// to; a scan not heard of for <see cref="Stale"/> (the agent went away) is no longer shown as under way.
/// </summary>
internal sealed class AgentScans(TimeProvider time)
{
    public static readonly TimeSpan Stale = TimeSpan.FromSeconds(30);
    private const string Prefix = "{\"type\":\"scan_progress\"";
    private readonly ConcurrentDictionary<string, Entry> _agents = new(StringComparer.Ordinal);

    /// <summary>Takes note of an agent's scan_progress message; anything else (or a malformed one) is left alone.</summary>
    public void Observe(EventMessage message)
    {
        if (message.Queue != EventMessage.SyscheckQueue || !message.Message.StartsWith(Prefix, StringComparison.Ordinal)
            || message.SplitLocation().Agent is not { IsManager: false } agent)
        {
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(message.Message);
            var data = document.RootElement.GetProperty("data");
            var scan = StatusApi.Scan(
                data.GetProperty("first").GetBoolean(),
                data.GetProperty("files").GetInt64(),
                data.GetProperty("bytes").GetInt64(),
                TimeSpan.FromMilliseconds(data.GetProperty("elapsed_ms").GetInt64()),
                data.GetProperty("expected").GetInt64());
            var done = data.GetProperty("done").GetBoolean();
            _agents.AddOrUpdate(
                agent.Id,
                _ => new Entry(agent.Name, done ? null : scan, done ? scan : null, time.GetUtcNow()),
                (_, old) => new Entry(agent.Name, done ? null : scan, done ? scan : old.Last, time.GetUtcNow()));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // Not a message this manager understands: the event itself is analysed as usual.
        }
    }

    /// <summary>Each agent heard of: its name, the scan under way (null when none or stale) and the last one that ended.</summary>
    public IReadOnlyList<(string AgentId, string AgentName, ScanStatus? Running, ScanStatus? Last)> Snapshot()
    {
        var now = time.GetUtcNow();
        return [.. _agents.OrderBy(a => a.Key, StringComparer.Ordinal)
            .Select(a => (a.Key, a.Value.Name, now - a.Value.Updated <= Stale ? a.Value.Running : null, a.Value.Last))];
    }

    /// <summary><paramref name="hosts"/> with each agent's scans added (an agent not in it is added).</summary>
    public IReadOnlyList<HostCoverage> AddTo(IReadOnlyList<HostCoverage> hosts)
    {
        var result = hosts.ToList();
        foreach (var (agentId, name, running, last) in Snapshot())
        {
            var index = result.FindIndex(h => h.AgentId == agentId);
            if (index >= 0)
            {
                result[index] = result[index] with { Scan = result[index].Scan ?? running, LastScan = last };
            }
            else
            {
                result.Add(new HostCoverage(agentId, name, "alerts", running, [], LastScan: last));
            }
        }

        return result;
    }

    private sealed record Entry(string Name, ScanStatus? Running, ScanStatus? Last, DateTimeOffset Updated);
}
