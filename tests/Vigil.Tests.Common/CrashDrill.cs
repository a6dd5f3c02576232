using System.Diagnostics;
using System.Text.Json;
using Vigil.Core;

namespace Vigil.Tests.Common;

/// <summary>What a crash drill counted: per file, the alerts each stage gave, against exactly one.</summary>
public sealed record CrashDrillResult(
    int Kills, int Files, int Malicious,
    int LostFim, int DuplicatedFim,
    int LostVerdicts, int DuplicatedVerdicts,
    int LostRemovals, int DuplicatedRemovals,
    int LostQuarantines, int DuplicatedQuarantines,
    int MaliciousLeft)
{
    /// <summary>For a failure message: each file with a stage missing, and what the AR log says of it.</summary>
    public string Losses { get; init; } = "";

    public int Lost => LostFim + LostVerdicts + LostRemovals + LostQuarantines + MaliciousLeft;

    public int Duplicated => DuplicatedFim + DuplicatedVerdicts + DuplicatedRemovals + DuplicatedQuarantines;

    public override string ToString() =>
        $"kills {Kills}, files {Files} ({Malicious} malicious); lost {Lost}, duplicated {Duplicated} "
        + $"(FIM added {LostFim}/{DuplicatedFim}, verdicts {LostVerdicts}/{DuplicatedVerdicts}, removals 100092 {LostRemovals}/{DuplicatedRemovals}, "
        + $"quarantines 200303 {LostQuarantines}/{DuplicatedQuarantines}, malicious files left {MaliciousLeft})";
}

/// <summary>
/// Bursts of new files (one in ten is EICAR) written into a watched directory while a Vigil process is SIGKILLed at
/// a random moment of each burst and started again, then one last burst without a kill; afterwards every file must
/// have exactly one FIM "added" alert, and every malicious one exactly one verdict (200100 or 87105), one removal
/// (100092) and one quarantine record (200303), and be gone from the directory. Seeded: the same seed gives the same
/// files and kill moments.
/// </summary>
public sealed class CrashDrill(string watched, string alertsJson, int seed)
{
    private readonly Random _random = new(seed);
    private readonly List<string> _files = [];
    private readonly HashSet<string> _malicious = [];

    /// <summary>Starts the system and waits until it is ready.</summary>
    public required Func<Task> StartAsync { get; init; }

    /// <summary>SIGKILLs one process of the system (the drill picks the moment; its random source may pick the process).</summary>
    public required Func<Random, Task> KillAsync { get; init; }

    /// <summary>The longest wait for the last alerts after the last burst.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(60);

    public async Task<CrashDrillResult> RunAsync(int kills, int filesPerBurst, Action<string>? progress = null)
    {
        await StartAsync();
        for (var kill = 1; kill <= kills; kill++)
        {
            // Kill somewhere in the burst: the rest of it is written while the process is down.
            var killAt = _random.Next(1, filesPerBurst);
            await BurstAsync(filesPerBurst, killAt, async () =>
            {
                await Task.Delay(_random.Next(0, 40));
                await KillAsync(_random);
            });
            await StartAsync();
            progress?.Invoke($"kill {kill}/{kills}: {_files.Count} files so far");
        }

        await BurstAsync(filesPerBurst, -1, null);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Settle && Count(kills).Lost > 0)
        {
            await Task.Delay(250);
        }

        await Task.Delay(TimeSpan.FromSeconds(2)); // room for a duplicate to show
        return Count(kills);
    }

    /// <summary>The active-response log, read when the drill counts (its lines about a lost file go in the result).</summary>
    public string? ActiveResponseLog { get; init; }

    private async Task BurstAsync(int count, int killAt, Func<Task>? kill)
    {
        for (var i = 0; i < count; i++)
        {
            if (i == killAt && kill is not null)
            {
                await kill();
            }

            var n = _files.Count;
            var malicious = n % 10 == 3;
            var path = Path.Combine(watched, $"{(malicious ? "m" : "f")}{n:D6}-{_random.Next():x8}.txt");
            await File.WriteAllBytesAsync(path, malicious ? Eicar.Bytes : System.Text.Encoding.ASCII.GetBytes($"harmless {n} {_random.Next()}\n"));
            _files.Add(path);
            if (malicious)
            {
                _malicious.Add(path);
            }
        }
    }

    private CrashDrillResult Count(int kills)
    {
        var fim = new Dictionary<string, int>(StringComparer.Ordinal);
        var verdicts = new Dictionary<string, int>(StringComparer.Ordinal);
        var removals = new Dictionary<string, int>(StringComparer.Ordinal);
        var quarantines = new Dictionary<string, int>(StringComparer.Ordinal);
        if (File.Exists(alertsJson))
        {
            using var stream = new FileStream(alertsJson, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                JsonElement alert;
                try
                {
                    alert = JsonDocument.Parse(line).RootElement;
                }
                catch (JsonException)
                {
                    continue; // a line being written
                }

                var rule = alert.GetProperty("rule").GetProperty("id").GetString();
                var data = alert.TryGetProperty("data", out var d) ? d : default;
                switch (rule)
                {
                    case "200100" or "87105":
                        Add(verdicts, Source(data));
                        break;
                    case "100092":
                        Add(removals, data.TryGetProperty("parameters", out var p) && p.TryGetProperty("alert", out var a) && a.TryGetProperty("data", out var ad) ? Source(ad) : null);
                        break;
                    case "200303":
                        Add(quarantines, data.GetProperty("parameters").GetProperty("path").GetString());
                        break;
                    default:
                        if (alert.TryGetProperty("syscheck", out var syscheck) && syscheck.GetProperty("event").GetString() == "added")
                        {
                            Add(fim, syscheck.GetProperty("path").GetString());
                        }

                        break;
                }
            }
        }

        var losses = new System.Text.StringBuilder();
        var arLines = ActiveResponseLog is not null && File.Exists(ActiveResponseLog) ? File.ReadAllLines(ActiveResponseLog) : [];
        foreach (var file in _files)
        {
            var missing = new List<string>();
            if (!fim.ContainsKey(file))
            {
                missing.Add("FIM");
            }

            if (_malicious.Contains(file))
            {
                missing.AddRange(new[] { ("verdict", verdicts), ("100092", removals), ("200303", quarantines) }.Where(s => !s.Item2.ContainsKey(file)).Select(s => s.Item1));
                if (File.Exists(file))
                {
                    missing.Add("removal (still on disk)");
                }
            }

            if (missing.Count > 0)
            {
                losses.AppendLine($"{file}: no {string.Join(", ", missing)}");
                var name = Path.GetFileName(file);
                foreach (var arLine in arLines.Where(l => l.Contains(name, StringComparison.Ordinal)))
                {
                    losses.AppendLine($"  ar: {(arLine.Length > 400 ? arLine[..200] + " … " + arLine[^200..] : arLine)}");
                }
            }
        }

        return new CrashDrillResult(
            kills, _files.Count, _malicious.Count,
            _files.Count(f => !fim.ContainsKey(f)), fim.Values.Sum(v => v - 1),
            _malicious.Count(f => !verdicts.ContainsKey(f)), verdicts.Values.Sum(v => v - 1),
            _malicious.Count(f => !removals.ContainsKey(f)), removals.Values.Sum(v => v - 1),
            _malicious.Count(f => !quarantines.ContainsKey(f)), quarantines.Values.Sum(v => v - 1),
            _malicious.Count(File.Exists))
        { Losses = losses.ToString() };

        static string? Source(JsonElement data)
        {
            foreach (var name in new[] { "vigil", "virustotal" })
            {
                if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var body) && body.TryGetProperty("source", out var source))
                {
                    return source.GetProperty("file").GetString();
                }
            }

            return null;
        }

        static void Add(Dictionary<string, int> counts, string? path)
        {
            if (path is not null)
            {
                counts[path] = counts.GetValueOrDefault(path) + 1;
            }
        }
    }
}
