using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Vigil.Core.Prevention;
using Vigil.Fim.Fanotify;

namespace Vigil.Fim.Probe;

/// <summary>`guard DIR [options]`: runs <see cref="FanotifyGuard"/> on DIR until stdin closes; one JSON object a line on stdout.</summary>
internal static class GuardRole
{
    private static readonly Lock s_output = new();

    public static int Run(string directory, string[] arguments)
    {
        if (Safety.Check(directory) is { } refusal)
        {
            Write(new { problem = refusal });
            return 3;
        }

        var mode = PreventionMode.Block;
        string? listPath = null;
        var options = new PreventionOptions();
        var slowLookup = 0;
        var slowScan = 0;
        string? readMarked = null;
        var cleanUnlisted = false;
        Action<string, string>? fault = null;
        string? yaraRules = null;
        for (var i = 0; i < arguments.Length; i++)
        {
            var value = i + 1 < arguments.Length ? arguments[i + 1] : "";
            switch (arguments[i])
            {
                case "--mode":
                    mode = Enum.Parse<PreventionMode>(value, ignoreCase: true);
                    i++;
                    break;
                case "--list":
                    listPath = value;
                    i++;
                    break;
                case "--deadline":
                    options = options with { Deadline = TimeSpan.FromMilliseconds(int.Parse(value, CultureInfo.InvariantCulture)) };
                    i++;
                    break;
                case "--on-timeout":
                    options = options with { OnTimeout = Enum.Parse<PreventionTimeoutPolicy>(value, ignoreCase: true) };
                    i++;
                    break;
                case "--workers":
                    options = options with { Workers = int.Parse(value, CultureInfo.InvariantCulture) };
                    i++;
                    break;
                case "--queue":
                    options = options with { QueueSize = int.Parse(value, CultureInfo.InvariantCulture) };
                    i++;
                    break;
                case "--hold-unknown-exec":
                    options = options with { HoldUnknownExec = true };
                    break;
                case "--slow-lookup":
                    slowLookup = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--slow-scan":
                    slowScan = int.Parse(value, CultureInfo.InvariantCulture);
                    i++;
                    break;
                case "--clean-unlisted":
                    cleanUnlisted = true;
                    break;
                case "--fault":
                    // STAGE:NAME: the guard's stage throws for an event whose path ends with NAME.
                    var (stage, name) = (value.Split(':')[0], value.Split(':')[1]);
                    fault = (at, path) =>
                    {
                        if (at == stage && path.EndsWith(name, StringComparison.Ordinal))
                        {
                            throw new InvalidOperationException($"injected fault at {at} for {path}");
                        }
                    };
                    i++;
                    break;
                case "--yara":
                    yaraRules = value;
                    i++;
                    break;
                case "--read-marked":
                    readMarked = value;
                    i++;
                    break;
                default:
                    Write(new { problem = $"unknown option {arguments[i]}" });
                    return 2;
            }
        }

        var listed = listPath is null
            ? new Dictionary<string, string?>()
            : File.ReadAllLines(listPath).Where(l => l.Length > 0).ToDictionary(l => l.Trim(), _ => (string?)"Vigil-Probe-Listed");
        using var yara = yaraRules is null ? null : new Vigil.Intel.Yara.YaraEngine(new Vigil.Intel.Yara.YaraOptions { Rules = [yaraRules] });
        IPreventionVerdicts verdicts = new ProbeVerdicts(new StaticPreventionVerdicts(listed, Path.GetFileName(listPath ?? "none")), slowLookup, slowScan, readMarked, cleanUnlisted);
        if (yara is not null)
        {
            // Prevention's own verdicts: the built-in list and the listed hashes, then the real YARA engine on the event's descriptor.
            var reload = yara.Reload();
            if (reload.Errors.Count > 0)
            {
                Write(new { problem = string.Join("; ", reload.Errors) });
                return 1;
            }

            verdicts = new Vigil.Intel.Prevention.PreventionVerdicts(
                [Vigil.Intel.LocalLists.HashList.Builtin, Vigil.Intel.LocalLists.HashList.Parse(Path.GetFileName(listPath ?? "none"), listed.Keys)], [], TimeProvider.System, [yara]);
        }

        using var guard = new FanotifyGuard(
            options, [new PreventionDirectory(directory, mode)], verdicts,
            alert => WriteRaw("{\"alert\":" + PreventionMessages.Json(alert) + "}"),
            new LineLogger(message => Write(new { log = message })))
        {
            Fault = fault,
        };
        var problems = guard.Start();
        Write(new { ready = guard.IsRunning, marked = guard.Marked, problems, pid = Environment.ProcessId });
        if (!guard.IsRunning)
        {
            return 1;
        }

        Console.In.ReadToEnd();
        var statistics = guard.Statistics;
        guard.Dispose();
        Write(new { stats = statistics });
        return 0;
    }

    public static void Write(object value) => WriteRaw(JsonSerializer.Serialize(value));

    private static void WriteRaw(string line)
    {
        lock (s_output)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }

    /// <summary>The listed hashes, made slow or made to read a marked file by path on demand.</summary>
    private sealed class ProbeVerdicts(IPreventionVerdicts inner, int slowLookupMilliseconds, int slowScanMilliseconds, string? readMarked, bool cleanUnlisted) : IPreventionVerdicts
    {
        private int _holding;

        public PreventionVerdict Lookup(string sha256)
        {
            if (slowLookupMilliseconds > 0)
            {
                if (Interlocked.Exchange(ref _holding, 1) == 0)
                {
                    Write(new { holding = true });
                }

                // A verdict source that hangs: only the deadline (or the guard's death) releases the opener.
                Task.Delay(slowLookupMilliseconds).Wait();
            }

            if (readMarked is not null)
            {
                // Vigil itself opening a file on the marked filesystem by path, while an event is being decided.
                Write(new { self_read = File.ReadAllBytes(readMarked).Length });
            }

            var verdict = inner.Lookup(sha256);
            return cleanUnlisted && !verdict.IsMalicious ? new PreventionVerdict(PreventionVerdictKind.Clean, "probe-cache", null) : verdict;
        }

        public ValueTask<PreventionVerdict> ScanAsync(SafeFileHandle file, string sha256, CancellationToken cancellationToken)
        {
            if (slowScanMilliseconds > 0)
            {
                // An engine that ignores the deadline: the guard's watcher must answer anyway.
                Task.Delay(slowScanMilliseconds, CancellationToken.None).Wait(CancellationToken.None);
            }

            var verdict = inner.Lookup(sha256);
            return ValueTask.FromResult(verdict.IsMalicious ? verdict : new PreventionVerdict(PreventionVerdictKind.Clean, "probe-engine", null));
        }
    }
}

/// <summary>The guard's log entries as the probe reports them: each entry's message, one line each.</summary>
internal sealed class LineLogger(Action<string> write) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        write(formatter(state, exception));
}
