using System.Globalization;
using Microsoft.Extensions.Logging;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Hosting;
using Vigil.Intel;
using Vigil.Intel.Engines;
using Vigil.Intel.Selection;

namespace Vigil.Manager;

/// <summary>
/// The intelligence services of a host, one per integration block it runs, keyed by the integration's name (the
/// n-th block of the same name is <c>name#n</c>): which of them an alert goes to, and the service a committed lookup
/// names. A key that is a number is a position, as an earlier version recorded lookups.
/// </summary>
internal sealed class IntelFanOut : IAsyncDisposable
{
    private readonly List<(string Key, IntegrationOptions Integration, IntelService Service)> _services = [];
    private readonly List<(string Key, EngineService Engine)> _engines = [];

    /// <summary>The integration blocks Vigil's intelligence runs (the others are Wazuh's own integrations).</summary>
    public static IReadOnlyList<IntegrationOptions> Integrations(OssecConfig config) => IntelIntegrations.Lookups(config);

    /// <summary>The detection engines' blocks (custom-vigil-yara, custom-vigil-clamav); they run where the files are.</summary>
    public static IReadOnlyList<IntegrationOptions> EngineIntegrations(OssecConfig config) => IntelIntegrations.Engines(config);

    /// <summary>The detection engines started by <see cref="StartEngines"/>, with their keys.</summary>
    public IReadOnlyList<(string Key, EngineService Engine)> Engines => _engines;

    /// <summary>
    /// Starts an engine per engine block (`vigil run`: the files are here); <paramref name="databasePath"/> gives the
    /// store of the engine of that key; each engine logs to <paramref name="loggers"/> under <c>Vigil.Engines</c>, as
    /// on an agent. Bad options throw VigilException naming the block.
    /// </summary>
    public void StartEngines(OssecConfig config, RuleSet rules, IEventSink sink, Func<string, string> databasePath, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        ArgumentNullException.ThrowIfNull(config);
        foreach (var integration in EngineIntegrations(config))
        {
            var count = _engines.Count(e => e.Key == integration.Name || e.Key.StartsWith(integration.Name + "#", StringComparison.Ordinal));
            var key = count == 0 ? integration.Name : string.Create(CultureInfo.InvariantCulture, $"{integration.Name}#{count + 1}");
            var engine = EngineService.Create(integration, new AlertSelector(WatchedBinding.Bind(integration, rules)), sink, databasePath(key), config.Home, time, loggers.CreateLogger("Vigil.Engines"));
            engine.Start();
            _engines.Add((key, engine));
        }
    }

    /// <summary>Gives every engine the FIM baseline its retro-scan walks when the rules or database change.</summary>
    public void AttachBaseline(Vigil.Core.Baseline.IBaselineCatalog baseline)
    {
        foreach (var (_, engine) in _engines)
        {
            engine.AttachBaseline(baseline);
        }
    }

    /// <summary>No intelligence (before a host starts).</summary>
    public static IntelFanOut None { get; } = new();

    /// <summary>
    /// Starts a service per integration; <paramref name="databasePath"/> gives the n-th one's store. Each service
    /// logs to <paramref name="loggers"/> under <c>Vigil.Intel.</c> and its key (<c>Vigil.Intel.virustotal#2</c>), so
    /// that a failure names the integration block as well as the peer.
    /// </summary>
    public static IntelFanOut Start(OssecConfig config, RuleSet rules, IEventSink sink, Func<int, string> databasePath, TimeProvider time, ILoggerFactory loggers, Intel.VirusTotal.ISharedIntel? shared = null)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        var fanOut = new IntelFanOut();
        var index = 0;
        foreach (var integration in Integrations(config))
        {
            var path = databasePath(index++);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var count = fanOut._services.Count(s => s.Integration.Name == integration.Name);
            var key = count == 0 ? integration.Name : string.Create(CultureInfo.InvariantCulture, $"{integration.Name}#{count + 1}");
            var service = new IntelService(WatchedBinding.Bind(integration, rules), sink, path, time, loggers.CreateLogger($"Vigil.Intel.{key}")) { Shared = shared };
            service.Start();
            fanOut._services.Add((key, integration, service));
        }

        return fanOut;
    }

    /// <summary>Each service with its integration's name, in configuration order.</summary>
    public IReadOnlyList<(string Name, IntelService Service)> Named => [.. _services.Select(s => (s.Integration.Name, s.Service))];

    public IReadOnlyList<IntelService> Services => [.. _services.Select(s => s.Service)];

    /// <summary>The keys lookups are committed under (with, for what an earlier version committed, the positions).</summary>
    public IEnumerable<string> Keys =>
        _services.Select(s => s.Key).Concat(_engines.Select(e => e.Key)).Concat(Enumerable.Range(0, _services.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The keys of the services that look this alert up.</summary>
    public IEnumerable<string> Selecting(string alertJson)
    {
        foreach (var (key, _, service) in _services)
        {
            if (service.Selects(alertJson))
            {
                yield return key;
            }
        }

        foreach (var (key, engine) in _engines)
        {
            if (engine.Selects(alertJson))
            {
                yield return key;
            }
        }
    }

    /// <summary>The service a committed lookup names; null for an integration removed from the configuration since.</summary>
    public IFileIntelligence? Find(string key)
    {
        foreach (var (name, _, service) in _services)
        {
            if (name == key)
            {
                return service;
            }
        }

        foreach (var (name, engine) in _engines)
        {
            if (name == key)
            {
                return engine;
            }
        }

        return int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < _services.Count ? _services[index].Service : null;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, _, service) in _services)
        {
            await service.DisposeAsync();
        }

        foreach (var (_, engine) in _engines)
        {
            await engine.DisposeAsync();
        }
    }
}
