using System.Diagnostics;
using System.Globalization;
using Vigil.Intel.Engines;
using Vigil.Intel.Files;

namespace Vigil.Benchmarks.Engines;

/// <summary>What the engine scenarios share: a test tree, a timed child process, and Vigil's scan of the tree.</summary>
internal static class EngineBench
{
    public const string WebshellRule = """
        rule Bench_Webshell
        {
            strings:
                $eval = /eval\s*\(\s*base64_decode\s*\(/
                $post = "$_POST["
            condition:
                all of them
        }
        """;

    public static int Int(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>
    /// <paramref name="small"/> files of 4 KiB (random, so unique; with <paramref name="repeat"/>, all but one in
    /// twenty copy an earlier file), one in a hundred holding a webshell line, and <paramref name="big"/> files of 100 MB.
    /// </summary>
    public static (string Root, long Bytes) WriteTree(string root, int small, int big, bool repeat)
    {
        var random = new Random(1604);
        long bytes = 0;
        var unique = new List<byte[]>();
        for (var i = 0; i < small; i++)
        {
            var directory = Path.Combine(root, $"d{i / 500:D4}");
            Directory.CreateDirectory(directory);
            byte[] content;
            if (repeat && unique.Count > 0 && i % 20 != 0)
            {
                content = unique[random.Next(unique.Count)];
            }
            else
            {
                content = new byte[4096];
                random.NextBytes(content);
                if (i % 100 == 0)
                {
                    var line = System.Text.Encoding.ASCII.GetBytes("<?php ev" + "al(base64_decode($_POST['c'])); ?>");
                    line.CopyTo(content, 100);
                }

                unique.Add(content);
            }

            File.WriteAllBytes(Path.Combine(directory, $"f{i:D6}.bin"), content);
            bytes += content.Length;
        }

        var chunk = new byte[1024 * 1024];
        for (var b = 0; b < big; b++)
        {
            using var stream = File.Create(Path.Combine(root, $"big{b}.bin"));
            for (var m = 0; m < 100; m++)
            {
                random.NextBytes(chunk);
                stream.Write(chunk);
            }

            bytes += 100L * chunk.Length;
        }

        return (root, bytes);
    }

    /// <summary>Runs a program to its end; its wall time and standard output.</summary>
    public static async Task<(TimeSpan Elapsed, string Output, int Code)> TimeProcessAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        clock.Stop();
        return (clock.Elapsed, await output + await error, process.ExitCode);
    }

    /// <summary>
    /// Vigil's path for every file of the tree: open without following symlinks, hash, ask the verdict cache by
    /// sha256 and engine version (when <paramref name="store"/> is given), scan on a miss; <paramref name="parallel"/> at once.
    /// </summary>
    public static async Task<(TimeSpan Elapsed, int Detections)> ScanTreeAsync(string root, IFileEngine engine, EngineStore? store, int parallel)
    {
        var files = Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }).ToList();
        var detections = 0;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (file, cancellationToken) =>
        {
            await using var stream = RegularFile.TryOpen(file, out _);
            if (stream is null)
            {
                return;
            }

            EngineResult? result = null;
            string? sha256 = null;
            if (store is not null)
            {
                sha256 = EngineHashing.Sha256(stream.SafeFileHandle).Sha256; // as EngineService: the SHA-256 alone asks the cache
                result = store.TryGetVerdict(sha256, engine.Name, engine.Version!);
            }

            if (result is null)
            {
                result = await engine.ScanAsync(stream, cancellationToken);
                if (store is not null && result.IsCacheable)
                {
                    store.PutVerdict(sha256!, result);
                }
            }

            if (result.Outcome == EngineOutcome.Detected)
            {
                Interlocked.Increment(ref detections);
            }
        });
        clock.Stop();
        return (clock.Elapsed, detections);
    }

    public static string Rate(long bytes, TimeSpan elapsed) => $"{bytes / 1048576.0 / elapsed.TotalSeconds:0.0} MB/s";
}
