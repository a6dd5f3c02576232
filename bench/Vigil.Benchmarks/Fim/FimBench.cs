using System.Collections.Concurrent;
using System.Diagnostics;
using Vigil.Core.Configuration;
using Vigil.Core.Events;

namespace Vigil.Benchmarks.Fim;

/// <summary>Shared pieces of the FIM scenarios: trees, a timing sink, a service over one directory.</summary>
internal static class FimBench
{
    public static string NewScratch(string name)
    {
        var path = Path.Combine("/var/tmp", $"vigil-bench-{name}-{Environment.ProcessId}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Small files of 512..4095 bytes spread over 100 directories.</summary>
    public static void CreateSmallFiles(string root, int count)
    {
        var random = new Random(42);
        var buffer = new byte[4096];
        for (var d = 0; d < 100; d++)
        {
            Directory.CreateDirectory(Path.Combine(root, $"d{d:D3}"));
        }

        for (var i = 0; i < count; i++)
        {
            random.NextBytes(buffer);
            File.WriteAllBytes(Path.Combine(root, $"d{i % 100:D3}", $"f{i:D6}"), buffer.AsSpan(0, 512 + random.Next(3584)));
        }
    }

    public static void CreateLargeFiles(string root, int count, long size)
    {
        Directory.CreateDirectory(root);
        var random = new Random(7);
        var buffer = new byte[1 << 20];
        for (var i = 0; i < count; i++)
        {
            using var stream = File.Create(Path.Combine(root, $"large{i:D2}.bin"));
            for (long written = 0; written < size; written += buffer.Length)
            {
                random.NextBytes(buffer);
                stream.Write(buffer);
            }
        }
    }

    public static SyscheckOptions Options(string root, bool realtime) => new()
    {
        Disabled = false,
        MaxEps = 0,
        FileLimit = 0,
        ProcessPriority = 0,
        Directories = [new DirectoryOptions { Path = root, Realtime = realtime }],
    };

    public static string Rss()
    {
        var lines = File.ReadAllLines("/proc/self/status");
        return string.Join(", ", lines.Where(l => l.StartsWith("VmRSS", StringComparison.Ordinal) || l.StartsWith("VmHWM", StringComparison.Ordinal)).Select(l => string.Join(' ', l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))));
    }

    public static void Delete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Counts syscheck events and stamps when each path's event arrived.</summary>
    internal sealed class TimingSink : IEventSink
    {
        public ConcurrentDictionary<string, long> Arrivals { get; } = new(StringComparer.Ordinal);

        public int Events => Volatile.Read(ref _events);

        private int _events;

        public ValueTask PublishAsync(EventMessage message, CancellationToken cancellationToken)
        {
            var now = Stopwatch.GetTimestamp();
            if (message.Queue == '8' && message.Message.StartsWith("{\"type\":\"event\"", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _events);
                var start = message.Message.IndexOf("\"path\":\"", StringComparison.Ordinal) + 8;
                var end = message.Message.IndexOf('"', start);
                Arrivals.TryAdd(message.Message[start..end], now);
            }

            return ValueTask.CompletedTask;
        }
    }
}
