using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Intel.Engines;
using Vigil.Intel.Selection;

namespace Vigil.Agent;

/// <summary>
/// The detection engines of `vigil agent` (custom-vigil-yara and custom-vigil-clamav blocks in the agent's
/// ossec.conf): the agent scans its own files, as `vigil run` does, and each answer is an event to the manager, whose
/// rules (200601, 200701…) and active responses (remove-threat back on this agent) treat it as any other. The agent
/// has no rules: every file FIM reports added or modified is given to every engine (the block's <c>group</c>,
/// <c>level</c> and <c>rule_id</c> name the manager's rules and do not apply here).
/// </summary>
internal sealed class AgentEngines : IAsyncDisposable
{
    private readonly List<(string Key, EngineService Engine)> _engines = [];
    private readonly ILogger _logger;

    private AgentEngines(ILogger logger) => _logger = logger;

    public IReadOnlyList<(string Key, EngineService Engine)> Engines => _engines;

    /// <summary>Starts an engine per engine block; each one's store is <paramref name="databasePath"/> of its key. Bad options throw VigilException naming the block.</summary>
    public static AgentEngines Start(OssecConfig config, IEventSink sink, Func<string, string> databasePath, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(config);
        var engines = new AgentEngines(logger);
        try
        {
            foreach (var integration in config.Integrations.Where(EngineSettings.IsEngine))
            {
                var count = engines._engines.Count(e => e.Key == integration.Name || e.Key.StartsWith(integration.Name + "#", StringComparison.Ordinal));
                var key = count == 0 ? integration.Name : string.Create(CultureInfo.InvariantCulture, $"{integration.Name}#{count + 1}");
                var path = databasePath(key);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                var engine = EngineService.Create(integration, new AlertSelector(new IntegrationOptions { Name = integration.Name }), sink, path, config.Home, time, logger);
                engine.Start();
                engines._engines.Add((key, engine));
            }
        }
        catch
        {
            engines.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        return engines;
    }

    /// <summary>Gives every engine the FIM baseline its retro-scan walks when the rules or database change.</summary>
    public void AttachBaseline(Vigil.Core.Baseline.IBaselineCatalog baseline)
    {
        foreach (var (_, engine) in _engines)
        {
            engine.AttachBaseline(baseline);
        }
    }

    /// <summary>
    /// The sink FIM publishes to: each file event is first queued for the engines (durably, in their stores), then
    /// passed on to <paramref name="next"/>; a crash between the two publishes it again, and it is scanned twice
    /// rather than not at all.
    /// </summary>
    public IEventSink Tap(IEventSink next) => _engines.Count == 0 ? next : new FimTap(this, next);

    /// <summary>One line per engine for the agent's start-up output.</summary>
    public IEnumerable<string> Describe() => _engines.Select(e =>
    {
        var status = e.Engine.Status();
        return $"vigil: engine {e.Key}: {status.Name} {(status.Version is { } v ? $"version {v}" : "(not ready)")}{(status.Problem is { } p ? $"; {p}" : "")}";
    });

    /// <summary>
    /// What an engine reads of a FIM alert, made from the agent's own FIM event (the agent has no alerts): the path,
    /// the event, the mode and the hashes and size after; null for anything but an added or modified file.
    /// </summary>
    internal static string? AlertFrom(EventMessage message)
    {
        if (message.Queue != EventMessage.SyscheckQueue)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(message.Message);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || Text(root, "type") != "event"
                || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object
                || Text(data, "type") is not ("added" or "modified") || Text(data, "path") is not { Length: > 0 } path
                || !data.TryGetProperty("attributes", out var attributes) || attributes.ValueKind != JsonValueKind.Object
                || Text(attributes, "type") is { } kind && kind != "file")
            {
                return null;
            }

            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("id", "");
                w.WriteStartObject("rule");
                w.WriteStartArray("groups");
                w.WriteStringValue("syscheck");
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteStartObject("agent");
                w.WriteString("id", "000"); // this host: the manager puts the agent's identity on the engine's event
                w.WriteString("name", "");
                w.WriteEndObject();
                w.WriteString("location", "syscheck");
                w.WriteStartObject("syscheck");
                w.WriteString("path", path);
                w.WriteString("event", Text(data, "type"));
                if (Text(data, "mode") is { } mode)
                {
                    w.WriteString("mode", mode);
                }

                Copy(w, attributes, "hash_md5", "md5_after");
                Copy(w, attributes, "hash_sha1", "sha1_after");
                Copy(w, attributes, "hash_sha256", "sha256_after");
                if (attributes.TryGetProperty("size", out var size) && size.ValueKind == JsonValueKind.Number)
                {
                    w.WriteString("size_after", size.GetRawText());
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (JsonException)
        {
            return null; // not FIM's JSON: nothing for an engine, and the manager says what it makes of it
        }
    }

    private static void Copy(Utf8JsonWriter w, JsonElement attributes, string from, string to)
    {
        if (Text(attributes, from) is { } value)
        {
            w.WriteString(to, value);
        }
    }

    private static string? Text(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private async ValueTask OfferAsync(EventMessage message, CancellationToken cancellationToken)
    {
        if (AlertFrom(message) is not { } alert)
        {
            return;
        }

        foreach (var (key, engine) in _engines)
        {
            try
            {
                await engine.OnAlertAsync(alert, null, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // An engine's store that cannot take the file (disk full) must not hold FIM's events back from the
                // manager: the event goes on, and the engine's problem is said.
                AgentLog.EngineNotQueued(_logger, key, PathOf(alert), ex);
            }
        }
    }

    private static string PathOf(string alert)
    {
        using var document = JsonDocument.Parse(alert);
        return document.RootElement.GetProperty("syscheck").GetProperty("path").GetString() ?? "";
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, engine) in _engines)
        {
            await engine.DisposeAsync();
        }

        _engines.Clear();
    }

    private sealed class FimTap(AgentEngines engines, IEventSink next) : IEventSink
    {
        public async ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken)
        {
            await engines.OfferAsync(message, cancellationToken);
            await next.PublishAsync(message, cancellationToken);
        }

        public async ValueTask PublishBatchAsync(IReadOnlyList<EventMessage> messages, IReadOnlyList<string>? keys, CancellationToken cancellationToken)
        {
            foreach (var message in messages)
            {
                await engines.OfferAsync(message, cancellationToken);
            }

            await next.PublishBatchAsync(messages, keys, cancellationToken);
        }

        public async ValueTask PublishStreamAsync(IReadOnlyList<EventMessage> messages, string stream, IReadOnlyList<long> positions, CancellationToken cancellationToken)
        {
            foreach (var message in messages)
            {
                await engines.OfferAsync(message, cancellationToken);
            }

            await next.PublishStreamAsync(messages, stream, positions, cancellationToken);
        }
    }
}
