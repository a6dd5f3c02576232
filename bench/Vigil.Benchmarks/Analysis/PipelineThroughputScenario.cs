using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Vigil.Analysis;
using Vigil.Analysis.Alerts;
using Vigil.Core;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Core.Events;
using Vigil.Tests.Common;

namespace Vigil.Benchmarks.Analysis;

/// <summary>
/// Events per second through decode → rules → alert serialization (alerts.json and alerts.log text) on one thread,
/// over the shipped configuration (built-in ruleset plus the seed's rules), for a mix of FIM, VirusTotal and
/// active-response events. Baseline in the same run: System.Text.Json merely parsing the same messages.
/// </summary>
internal sealed class PipelineThroughputScenario : IScenario
{
    public string Name => "analysis-throughput";

    public string Description => "events/s through decode + rules + alert serialization, one core (target >= 200,000)";

    public Task<int> RunAsync(string[] args)
    {
        var eventsPerRound = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 300_000;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;

        var config = OssecConfigLoader.Load(RepositoryPaths.Get("config", "ossec.conf"), new ConfigLoadOptions { Home = RepositoryPaths.Root }).Config;
        var diagnostics = new DiagnosticBag();
        var rules = AnalysisFactory.LoadRules(config, diagnostics);
        var messages = Mix().Select(l => EventMessage.TryParse(l)!).ToArray();

        Console.WriteLine($"# {Name}: {messages.Length} distinct events (FIM added in and out of /root, FIM modified/deleted, VirusTotal malicious/clean/unknown/error, AR success/error), {rules.Rules.Count} rules");
        Console.WriteLine($"# {Environment.ProcessorCount} cores, .NET {Environment.Version}, {eventsPerRound:N0} events per round, {rounds} rounds, median reported");

        var pipeline = AnalysisFactory.Create(config, rules, AlertFileWriter.Detached(), TimeProvider.System);
        var alerts = 0L;
        // Warm-up: a manager runs for days, so measure the steady state. Tiered JIT promotes hot methods in the
        // background some time after their first calls; 50,000 events (a third of a second) left the first round
        // half-compiled. Three seconds of the same mix leave them all at their final tier.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < TimeSpan.FromSeconds(3))
        {
            Measure(pipeline, messages, 50_000, ref alerts);
        }

        Console.WriteLine($"# warm-up: {warmUp.Elapsed.TotalSeconds:F1} s of the same mix, not counted");
        var pipelineRates = new List<double>();
        var pipelineCpuRates = new List<double>();
        var parseRates = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            alerts = 0;
            var cpuBefore = Environment.CpuUsage.TotalTime;
            pipelineRates.Add(Measure(pipeline, messages, eventsPerRound, ref alerts));
            pipelineCpuRates.Add(eventsPerRound / (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds);
            parseRates.Add(MeasureParseOnly(messages, eventsPerRound));
        }

        var decodeOnly = Stats.Median([.. Enumerable.Range(0, rounds).Select(_ => MeasureStage(pipeline, messages, eventsPerRound, matchRules: false))]);
        var decodeAndRules = Stats.Median([.. Enumerable.Range(0, rounds).Select(_ => MeasureStage(pipeline, messages, eventsPerRound, matchRules: true))]);
        Console.WriteLine($"stage: decode only                 median {decodeOnly:N0} events/s");
        Console.WriteLine($"stage: decode + rules (no output)  median {decodeAndRules:N0} events/s");
        var context = AnalysisFactory.ContextOf(config);
        var sample = messages.Select(m => pipeline.Process(m).Alert!).ToArray();
        foreach (var alert in sample)
        {
            var one = new[] { alert };
            Console.WriteLine($"  alerts.json of rule {alert.Rule.Id,6}: {MeasureOutput(one, eventsPerRound / 4, a => AlertJson.Serialize(a, context).Length),12:N0}/s; decode {MeasureStage(pipeline, [messages[Array.IndexOf(sample, alert)]], eventsPerRound / 4, matchRules: false),12:N0}/s; decode {Allocated(() => MeasureStage(pipeline, [messages[Array.IndexOf(sample, alert)]], 1000, matchRules: false)) / 1000:N0} B, alerts.json {Allocated(() => MeasureOutput(one, 1000, a => AlertJson.Serialize(a, context).Length)) / 1000:N0} B");
        }

        Console.WriteLine($"stage: alerts.json serialization   median {Stats.Median([.. Enumerable.Range(0, rounds).Select(_ => MeasureOutput(sample, eventsPerRound, a => AlertJson.Serialize(a, context).Length))]):N0} alerts/s");
        Console.WriteLine($"stage: alerts.log formatting       median {Stats.Median([.. Enumerable.Range(0, rounds).Select(_ => MeasureOutput(sample, eventsPerRound, a => AlertLog.Format(a, context).Length))]):N0} alerts/s");
        var pipelineMedian = Stats.Median(pipelineRates);
        var parseMedian = Stats.Median(parseRates);
        Console.WriteLine($"pipeline (decode+rules+alerts.json+alerts.log text): median {pipelineMedian:N0} events/s  (rounds: {string.Join(", ", pipelineRates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))})");
        Console.WriteLine($"pipeline per CPU second (the process's CPU time, GC included; steadier on a loaded machine): median {Stats.Median(pipelineCpuRates):N0} events/s");
        Console.WriteLine($"baseline (JsonDocument.Parse of the same messages):  median {parseMedian:N0} events/s");
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var gen0Before = GC.CollectionCount(0);
        var counted = 0L;
        Measure(pipeline, messages, eventsPerRound, ref counted);
        Console.WriteLine($"allocated: {(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / (double)eventsPerRound:N0} bytes/event, {GC.CollectionCount(0) - gen0Before} gen0 collections per round");
        Console.WriteLine($"allocated by stage (bytes/event): decode {Allocated(() => MeasureStage(pipeline, messages, messages.Length * 100, matchRules: false)) / (messages.Length * 100):N0}, " +
            $"decode + rules {Allocated(() => MeasureStage(pipeline, messages, messages.Length * 100, matchRules: true)) / (messages.Length * 100):N0}, " +
            $"alerts.json {Allocated(() => MeasureOutput(sample, sample.Length * 100, a => AlertJson.Serialize(a, context).Length)) / (sample.Length * 100):N0}, " +
            $"alerts.log {Allocated(() => MeasureOutput(sample, sample.Length * 100, a => AlertLog.Format(a, context).Length)) / (sample.Length * 100):N0}");
        Console.WriteLine($"ratio pipeline/baseline: {pipelineMedian / parseMedian:F2}; alerts per round: {alerts:N0}; target 200,000 events/s: {(pipelineMedian >= 200_000 ? "met" : "NOT met")}");
        return Task.FromResult(0);
    }

    private static double Allocated(Action run)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        run();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static double Measure(AnalysisPipeline pipeline, EventMessage[] messages, int count, ref long alerts)
    {
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            if (pipeline.Process(messages[i % messages.Length]).AlertJson is not null)
            {
                alerts++;
            }
        }

        return count / stopwatch.Elapsed.TotalSeconds;
    }

    private static double MeasureStage(AnalysisPipeline pipeline, EventMessage[] messages, int count, bool matchRules)
    {
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var e = pipeline.Decode(messages[i % messages.Length]);
            if (matchRules)
            {
                pipeline.MatchOnly(e);
            }
        }

        return count / stopwatch.Elapsed.TotalSeconds;
    }

    private static double MeasureOutput(Alert[] sample, int count, Func<Alert, int> output)
    {
        var stopwatch = Stopwatch.StartNew();
        var sink = 0;
        for (var i = 0; i < count; i++)
        {
            sink += output(sample[i % sample.Length]);
        }

        GC.KeepAlive(sink);
        return count / stopwatch.Elapsed.TotalSeconds;
    }

    private static double MeasureParseOnly(EventMessage[] messages, int count)
    {
        var stopwatch = Stopwatch.StartNew();
        var sink = 0;
        for (var i = 0; i < count; i++)
        {
            var text = messages[i % messages.Length].Message;
            var start = text.IndexOf('{', StringComparison.Ordinal);
            var end = text.LastIndexOf('}');
            using var document = JsonDocument.Parse(text.AsMemory(start, end - start + 1));
            sink += document.RootElement.GetArrayLength0();
        }

        GC.KeepAlive(sink);
        return count / stopwatch.Elapsed.TotalSeconds;
    }

    private static IEnumerable<string> Mix()
    {
        static string Fim(string path, string type, string old = "") =>
            """8:[001] (web-01) 10.0.0.5->syscheck:{"type":"event","data":{"path":"PATH","version":2.0,"mode":"realtime","type":"TYPE","timestamp":1700000000,"attributes":{"type":"file","size":68,"perm":"rw-r--r--","uid":"0","gid":"0","user_name":"root","group_name":"root","inode":"1704505","mtime":1700000000,"hash_md5":"MD5","hash_sha1":"SHA1","hash_sha256":"SHA256"}OLD}}"""
                .Replace("PATH", path, StringComparison.Ordinal).Replace("TYPE", type, StringComparison.Ordinal)
                .Replace("MD5", Eicar.Md5, StringComparison.Ordinal).Replace("SHA1", Eicar.Sha1, StringComparison.Ordinal)
                .Replace("SHA256", Eicar.Sha256, StringComparison.Ordinal).Replace("OLD", old, StringComparison.Ordinal);
        const string Old = ""","changed_attributes":["size","md5"],"old_attributes":{"type":"file","size":0,"perm":"rw-r--r--","uid":"0","gid":"0","inode":"1704505","mtime":1700000000,"hash_md5":"d41d8cd98f00b204e9800998ecf8427e"}""";
        const string Vt = """1:[001] (web-01) 10.0.0.5->virustotal:{"virustotal": {"found": FOUND, "malicious": MAL, "source": {"alert_id": "1700000000.1234", "file": "/root/eicar.com", "md5": "44d88612fea8a8f36de82e1278abb02f", "sha1": "3395856ce81f2b7382dee72602f798b642f14140"}, "sha1": "3395856ce81f2b7382dee72602f798b642f14140", "scan_date": "2022-11-17 17:15:04", "positives": 66, "total": 68, "permalink": "https://www.virustotal.com/gui/file/x/detection"}, "integration": "virustotal"}""";
        const string Ar = """1:[001] (web-01) 10.0.0.5->/var/ossec/logs/active-responses.log:2022/11/17 19:30:26 active-response/bin/remove-threat.sh: {"version":1,"origin":{"name":"node01","module":"wazuh-execd"},"command":"add","parameters":{"extra_args":[],"alert":{"rule":{"level":12,"id":"87105"},"data":{"virustotal":{"source":{"file":"/root/eicar.com"}}}},"program":"active-response/bin/remove-threat.sh"}} OUTCOME""";
        yield return Fim("/root/eicar.com", "added");
        yield return Fim("/srv/www/index.php", "added");
        yield return Fim("/root/notes.txt", "modified", Old);
        yield return Fim("/etc/passwd", "deleted");
        yield return Vt.Replace("FOUND", "1", StringComparison.Ordinal).Replace("MAL", "1", StringComparison.Ordinal);
        yield return Vt.Replace("FOUND", "1", StringComparison.Ordinal).Replace("MAL", "0", StringComparison.Ordinal);
        yield return Vt.Replace("FOUND", "0", StringComparison.Ordinal).Replace("MAL", "0", StringComparison.Ordinal);
        yield return """1:virustotal:{"virustotal": {"error": 204, "description": "Error: Public API request rate limit reached"}, "integration": "virustotal"}""";
        yield return Ar.Replace("OUTCOME", "Successfully removed threat", StringComparison.Ordinal);
        yield return Ar.Replace("OUTCOME", "Error removing threat", StringComparison.Ordinal);
    }
}

internal static class JsonElementExtensions
{
    // A trivial read so the parse cannot be optimised away.
    public static int GetArrayLength0(this JsonElement element) => element.ValueKind == JsonValueKind.Object ? 1 : 0;
}
