using System.Threading.Channels;
using Vigil.Core.Configuration;

namespace Vigil.Hosting;

/// <summary>Active responses running concurrently, tracked so a host can wait for them before it stops.</summary>
internal sealed class ResponseTasks
{
    private readonly List<Task> _tasks = [];

    public Task Start(Func<Task> run)
    {
        var task = Task.Run(run, CancellationToken.None);
        lock (_tasks)
        {
            _tasks.RemoveAll(t => t.IsCompleted);
            _tasks.Add(task);
        }

        return task;
    }

    /// <summary>Completes when every response started so far has ended (failures were logged by execd).</summary>
    public Task WhenAllAsync()
    {
        Task[] tasks;
        lock (_tasks)
        {
            tasks = [.. _tasks];
        }

        return Task.WhenAll(tasks).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}

/// <summary>Syscheck settings as the hosts apply them.</summary>
internal static class SyscheckOverrides
{
    /// <summary>
    /// Vigil's own state must never be monitored, even when a watched tree contains it: every alert written to
    /// alerts.json would otherwise be a change, and an alert, and so on. Likewise the per-filesystem quarantine vaults.
    /// </summary>
    public static SyscheckOptions WithoutOwnFiles(SyscheckOptions syscheck, string dataDirectory, string activeResponseLog) => syscheck with
    {
        Ignore =
        [
            .. syscheck.Ignore,
            new PathFilter(dataDirectory, IsSregex: false),
            new PathFilter(Path.GetDirectoryName(activeResponseLog)!, IsSregex: false),
            new PathFilter("/.vigil-quarantine", IsSregex: true),
        ],
    };

    /// <summary><c>--directory</c>: watch these directories in real time instead of the configured ones.</summary>
    public static OssecConfig WithRealtimeDirectories(OssecConfig config, string[]? directories) =>
        directories is not { Length: > 0 }
            ? config
            : config with
            {
                Syscheck = config.Syscheck with
                {
                    Disabled = false,
                    Directories = [.. directories.Select(d => new DirectoryOptions { Path = Path.TrimEndingDirectorySeparator(Path.GetFullPath(d)), Realtime = true })],
                },
            };
}

/// <summary>What every host does to start and to stop.</summary>
internal static class HostLifetime
{
    /// <summary>Gives analysis up to five seconds to take what the producers left in its channel.</summary>
    public static async Task DrainAsync<T>(ChannelReader<T> reader, TimeProvider time)
    {
        var deadline = time.GetUtcNow().AddSeconds(5);
        while (reader.Count > 0 && time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), time);
        }
    }
}

/// <summary>
/// Binds the intelligence to what is watched. The guide's integration names its rules 100200/100201, which test the
/// path against /root only: on any other watched directory (<c>--directory</c>, an agent's own directories, the
/// guide's §5.1 additions) the same file would stay a plain 554 and never be looked up. So an integration whose
/// <c>&lt;rule_id&gt;</c> names a FIM file rule (550 or 554, or a rule under them) also takes 550 and 554
/// themselves: every file added or modified in a watched directory that no narrower rule claimed. A FIM event gives
/// one alert (the child rule wins over its parent), so nothing is looked up twice.
/// </summary>
internal static class WatchedBinding
{
    public static readonly string[] FimFileRules = ["550", "554"];

    public static IntegrationOptions Bind(IntegrationOptions integration, Analysis.Rules.RuleSet rules)
    {
        if (integration.RuleIds.Count == 0 || !integration.RuleIds.Any(id => IsUnderFimFileRule(id, rules)))
        {
            return integration;
        }

        return integration with { RuleIds = [.. integration.RuleIds, .. Added(integration, rules)] };
    }

    /// <summary>The rule ids <see cref="Bind"/> adds to this integration's filter (none when it adds nothing).</summary>
    public static IReadOnlyList<string> Added(IntegrationOptions integration, Analysis.Rules.RuleSet rules) =>
        integration.RuleIds.Any(id => IsUnderFimFileRule(id, rules))
            ? [.. FimFileRules.Where(f => !integration.RuleIds.Contains(f, StringComparer.Ordinal))]
            : [];

    /// <summary>The banner line for one intelligence integration: what it looks up, on which alerts.</summary>
    public static string Describe(IntegrationOptions integration, Analysis.Rules.RuleSet rules)
    {
        var added = Added(integration, rules);
        var filter = integration.RuleIds.Count > 0 ? $"rules {string.Join(",", integration.RuleIds)}" : "every alert the block selects";
        if (added.Count > 0)
        {
            filter += $" and {string.Join(",", added)} (a file added or modified in any watched directory)";
        }

        return integration.ApiKey.IsEmpty
            ? $"vigil: intelligence: local hash lists (built-in EICAR list) on {filter}; VirusTotal off (no API key: set VIGIL_VT_API_KEY)"
            : $"vigil: intelligence: VirusTotal (and any configured hash lists) on {filter}";
    }

    private static bool IsUnderFimFileRule(string id, Analysis.Rules.RuleSet rules)
    {
        if (!int.TryParse(id, out var start))
        {
            return false;
        }

        var seen = new HashSet<int>();
        var pending = new Queue<int>([start]);
        while (pending.TryDequeue(out var current))
        {
            if (current is 550 or 554)
            {
                return true;
            }

            if (seen.Add(current) && rules.Find(current) is { } rule)
            {
                foreach (var parent in rule.IfSids)
                {
                    pending.Enqueue(parent);
                }
            }
        }

        return false;
    }
}

/// <summary>How the hosts describe a watched directory at start: never "watching" one that is not there.</summary>
internal static class WatchedDirectories
{
    public static string Describe(DirectoryOptions directory, SyscheckOptions syscheck)
    {
        var how = $"{directory.Mode}{(directory.ReportChanges ? ", report_changes" : "")}";
        if (Path.Exists(directory.Path) && Vigil.Fim.Scanning.SkippedDirectories.Explain(directory.Path, syscheck) is { } skipped)
        {
            return $"vigil: warning: {skipped}";
        }

        if (Directory.Exists(directory.Path))
        {
            return $"vigil: watching {directory.Path} ({how})";
        }

        return File.Exists(directory.Path)
            ? $"vigil: watching the file {directory.Path} ({how})"
            : directory.Realtime || directory.Whodata
                ? $"vigil: warning: {directory.Path} does not exist: nothing to watch yet; its nearest existing parent is watched so that it is taken in ({how}) once created"
                : $"vigil: warning: {directory.Path} does not exist: nothing to watch yet; each scheduled scan looks for it again";
    }
}
