using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Hosting;
using Vigil.Storage.Postgres;
using Vigil.Transport;
using Vigil.Web;

namespace Vigil.Manager;

/// <summary>What `vigil manager` runs, once its command line and configuration are read and checked.</summary>
internal sealed record ManagerRunSettings(
    OssecConfig Config,
    RuleSet Rules,
    AllInOnePaths Paths,
    ManagerTransportOptions Transport,
    WebOptions? Web,
    string EnrollmentPasswordSource)
{
    /// <summary>JSON logs (--log-json).</summary>
    public bool LogJson { get; init; }

    /// <summary>How long a response waits in an agent's outbox before rule 200403 says it was not delivered.</summary>
    public TimeSpan ResponseDeadline { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The database shared with other managers (--database), already migrated; null: this manager alone.</summary>
    public PostgresDatabase? SharedDatabase { get; init; }

    /// <summary>The password of the shared CA key (required with <see cref="SharedDatabase"/>).</summary>
    public string? CaPassword { get; init; }
}

/// <summary>
/// The wiring of the long-running server commands on the Generic Host (<see cref="VigilHost"/>): the host, the API
/// and dashboard in front of it, its operations for the API, systemd's notifications, and the line said at exit.
/// </summary>
internal static class ManagerRun
{
    /// <summary>`vigil manager` until <paramref name="cancellationToken"/> is cancelled.</summary>
    public static async Task RunManagerAsync(ManagerRunSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var (config, rules, paths, options) = (settings.Config, settings.Rules, settings.Paths, settings.Transport);
        HostEnvironment.Export(paths.Home, paths.Data);
        using var loggers = HostLogging.Create(settings.LogJson);
        var time = TimeProvider.System;
        var managerName = $"{Dns.GetHostName()}:{options.AgentPort}";
        var singletonJobs = settings.SharedDatabase is { } jobsDatabase ? SharedAlerts.Jobs(jobsDatabase, managerName, time, loggers) : null;
        var indexLogger = loggers.CreateLogger<AlertIndexing>();
        var indexing = singletonJobs is null ? AlertIndexing.Open(paths.Data, indexLogger, time) : SharedAlerts.Open(singletonJobs, indexLogger, time);
        var host = new ManagerHost(config, rules, paths, options, loggers, Console.Out, time)
        {
            Indexing = indexing,
            ResponseDeadline = settings.ResponseDeadline,
            Shared = settings.SharedDatabase is { } sharedDatabase
                ? new SharedStores(sharedDatabase, settings.CaPassword!, managerName)
                : null,
        };
        var web = new WebFront(indexing, settings.Web, Console.Out, loggers);
        await Console.Out.WriteLineAsync($"vigil: enrollment password from {settings.EnrollmentPasswordSource}");
        await using var systemd = SystemdNotifier.FromEnvironment(TimeProvider.System);
        systemd?.WatchStages(host.Stages);

        IHostedService[] jobs = singletonJobs is null ? [] : [SharedAlerts.Service(singletonJobs)];

        // The shared store's jobs and the index first (stopped last, once nothing writes to it), the manager's stages,
        // the API in front.
        await VigilHost.RunAsync(
            [
                .. jobs,
                VigilHost.Stage(_ => Task.CompletedTask, indexing),
                .. host.Services(),
                web.Service(() => new HostOperations(
                    config,
                    rules,
                    HostOperations.LocalQuarantine(paths.Data, paths.ActiveResponseLog, time),
                    host.Intel,
                    time,
                    host.Registry,
                    () => host.Transport,
                    indexing.Index)
                { Stages = host.Stages, DeadLetterStore = () => host.DeadLetters, AgentScans = host.AgentScans, AgentEngines = host.AgentEngines }),
            ],
            cancellationToken,
            systemd,
            $"agents on port {options.AgentPort}");

        await Console.Out.WriteLineAsync($"vigil: manager stopped ({host.AlertCount} alerts written)");
    }

    /// <summary>`vigil run` (FIM, analysis, intelligence and active response in one process) until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <remarks>With <paramref name="logJson"/> (--log-json) the stages' log entries are JSON, as under `vigil manager`; the banner stays text.</remarks>
    public static async Task RunAllInOneAsync(OssecConfig config, RuleSet rules, AllInOnePaths paths, WebOptions? web, CancellationToken cancellationToken, bool logJson = false)
    {
        // Active-response programs started by execd (vigil remove-threat) find the same home, data and watched directories.
        HostEnvironment.Export(paths.Home, paths.Data, config);
        var time = TimeProvider.System;
        using var loggers = HostLogging.Create(logJson);
        var indexing = AlertIndexing.Open(paths.Data, loggers.CreateLogger<AlertIndexing>(), time);
        var host = new AllInOneHost(config, rules, paths, Console.Out, time) { Indexing = indexing, IsTerminal = FimConsole.IsTerminal, Loggers = loggers };
        var front = new WebFront(indexing, web, Console.Out, loggers);

        // The index first (stopped last), detection, the API in front (up during the first scan), then the first scan.
        await VigilHost.RunAsync(
            [
                VigilHost.Stage(_ => Task.CompletedTask, indexing),
                .. host.Services(),
                front.Service(() => new HostOperations(config, rules, HostOperations.LocalQuarantine(paths.Data, paths.ActiveResponseLog, time), host.Intel, time)
                { Stages = host.Stages, DeadLetterStore = () => host.DeadLetters, LocalCoverage = host.Coverage }),
                .. host.ReadyServices(),
            ],
            cancellationToken);

        await Console.Out.WriteLineAsync($"vigil: stopped ({host.AlertCount} alerts written)");
    }
}
