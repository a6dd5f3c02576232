using System.Net;
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
        using var loggers = HostLogging.Create(settings.LogJson);
        var time = TimeProvider.System;
        var managerName = $"{Dns.GetHostName()}:{options.AgentPort}";
        await using var singletonJobs = settings.SharedDatabase is { } jobsDatabase ? SharedAlerts.Jobs(jobsDatabase, managerName, time, loggers) : null;
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
        var fronted = new WebFrontedHost(host, indexing, settings.Web, Console.Out, loggers);
        await Console.Out.WriteLineAsync($"vigil: enrollment password from {settings.EnrollmentPasswordSource}");
        await using var systemd = SystemdNotifier.FromEnvironment(TimeProvider.System);
        systemd?.WatchStages(host.Stages);
        await VigilHost.RunAsync(
            [VigilHost.Stage(token => fronted.StartAsync(
                host.StartAsync,
                () => new HostOperations(
                    config,
                    rules,
                    HostOperations.LocalQuarantine(paths.Data, paths.ActiveResponseLog, time),
                    host.Intel,
                    time,
                    host.Registry,
                    () => host.Transport,
                    indexing.Index)
                { Stages = host.Stages, DeadLetterStore = () => host.DeadLetters, AgentScans = host.AgentScans, AgentEngines = host.AgentEngines },
                token), fronted)],
            cancellationToken,
            systemd,
            $"agents on port {options.AgentPort}");

        await Console.Out.WriteLineAsync($"vigil: manager stopped ({host.AlertCount} alerts written)");
    }

    /// <summary>`vigil run` (FIM, analysis, intelligence and active response in one process) until <paramref name="cancellationToken"/> is cancelled.</summary>
    public static async Task RunAllInOneAsync(OssecConfig config, RuleSet rules, AllInOnePaths paths, WebOptions? web, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        using var loggers = HostLogging.Create(json: false);
        var indexing = AlertIndexing.Open(paths.Data, loggers.CreateLogger<AlertIndexing>(), time);
        var host = new AllInOneHost(config, rules, paths, Console.Out, time) { Indexing = indexing, IsTerminal = FimConsole.IsTerminal, Loggers = loggers };
        var fronted = new WebFrontedHost(host, indexing, web, Console.Out, loggers);
        await VigilHost.RunAsync(
            [VigilHost.Stage(token => fronted.StartAsync(
                host.StartAsync,
                () => new HostOperations(config, rules, HostOperations.LocalQuarantine(paths.Data, paths.ActiveResponseLog, time), host.Intel, time)
                { Stages = host.Stages, DeadLetterStore = () => host.DeadLetters, LocalCoverage = host.Coverage },
                token,
                host.WaitUntilReadyAsync), fronted)],
            cancellationToken);

        await Console.Out.WriteLineAsync($"vigil: stopped ({host.AlertCount} alerts written)");
    }
}
