using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vigil.Core.Hashing;
using Vigil.Core.Native;
using Vigil.Intel.Files;
using Vigil.Intel.LocalLists;
using Vigil.Intel.VirusTotal;

namespace Vigil.Intel.Scanning;

/// <summary>
/// On-demand scanning (<c>vigil scan</c>): hashes each file, then asks the local hash lists, the shared verdict
/// cache and, with a key, VirusTotal within the shared quota. Directories are walked without following symbolic
/// links; a link named on the command line is followed (as <c>find -H</c> does). A path that cannot be read gives
/// an error result and the scan goes on.
/// </summary>
internal sealed class FileScanner
{
    private const int SnapshotLimit = 500_000;
    private const long InlineHashLimit = 256 * 1024;
    private readonly IntelOptions _options;
    private readonly LocalIntel _local;
    private readonly VerdictCache? _cache;
    private readonly QuotaGate? _quota;
    private readonly VirusTotalClient? _client;
    private readonly TimeProvider _time;
    private readonly bool _shouldWait;
    private string? _rejection;

    /// <summary>
    /// <paramref name="store"/> holds the verdict cache and the quota; it is null only without a client, when there is
    /// no database yet (nothing cached).
    /// </summary>
    public FileScanner(IntelOptions options, LocalIntel local, IntelStore? store, VirusTotalClient? client, TimeProvider timeProvider, bool shouldWait)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (store is null && client is not null)
        {
            throw new ArgumentNullException(nameof(store), "a VirusTotal client needs the store (verdict cache and quota)");
        }

        _options = options;
        _local = local;
        if (store is not null)
        {
            _cache = new VerdictCache(store, options, timeProvider);

            // A scan is one pass over many files: the cache's hashes are read once, not asked file by file.
            _cache.Snapshot(SnapshotLimit);
            _quota = new QuotaGate(store, options, timeProvider);
        }

        _client = client;
        _time = timeProvider;
        _shouldWait = shouldWait;
    }

    /// <summary>Detection engines every file also goes through (the ossec.conf's custom-vigil-yara and -clamav blocks).</summary>
    public IReadOnlyList<Engines.IFileEngine> Engines { get; init; } = [];

    /// <summary>Directories walked so far.</summary>
    public int DirectoriesScanned { get; private set; }

    /// <summary>Files hashed at once in a walk (reading and hashing are the cost; the verdicts stay in order, one at a time).</summary>
    public int HashingParallelism { get; init; } = Math.Max(2, Environment.ProcessorCount);

    public async IAsyncEnumerable<ScanResult> ScanAsync(IEnumerable<string> paths, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(paths);
        foreach (var path in paths)
        {
            // statx on the path's bytes (PathBytes): a name that is not valid UTF-8 is found like any other.
            var status = FileStatus.TryGet(path, followLinks: true, out var errno);
            if (status?.IsDirectory == true)
            {
                await foreach (var result in WalkTreeAsync(path, cancellationToken))
                {
                    yield return result;
                }
            }
            else if (status is not null)
            {
                // Named on the command line: a link is followed to its target; the result keeps the name given.
                var target = FileStatus.TryGet(path, followLinks: false)?.IsSymlink == true ? LinkTarget(path) : path;
                var hashed = await HashAsync(target, _local.Kinds, gate: null, cancellationToken);
                var result = await ClassifyAsync(path, (hashed.Digest, hashed.Error), isWalked: false, cancellationToken) ?? Error(path, "not a regular file");
                yield return WithEngines(result, hashed.Engines);
            }
            else
            {
                yield return Error(path, errno == LibC.ENOENT ? "no such file or directory" : LibC.Describe(errno));
            }
        }
    }

    private static string LinkText(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget ?? "?";
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
        }
        catch (IOException)
        {
            return path;
        }
    }

    private IAsyncEnumerable<ScanResult> WalkTreeAsync(string root, CancellationToken cancellationToken) =>
        Engines.Count == 0 ? WalkHashingAsync(root, cancellationToken) : WalkWithEnginesAsync(root, cancellationToken);

    private async IAsyncEnumerable<ScanResult> WalkHashingAsync(string root, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The walk runs ahead of the verdicts by a window of files being read and hashed on a few long-lived threads
        // at once (reading and hashing are the cost); the verdicts come one at a time, in the walk's order.
        using var hashing = new OrderedHashing(_local.Kinds, Math.Max(1, HashingParallelism));
        foreach (var (path, result) in Walk(root, cancellationToken))
        {
            while (hashing.IsFull)
            {
                if (await NextAsync(hashing.Take(cancellationToken), cancellationToken) is { } next)
                {
                    yield return next;
                }
            }

            hashing.Add(path, result);
        }

        while (hashing.Count > 0)
        {
            if (await NextAsync(hashing.Take(cancellationToken), cancellationToken) is { } next)
            {
                yield return next;
            }
        }
    }

    private ValueTask<ScanResult?> NextAsync((string Path, ScanResult? Given, ContentHashes? Digest, string? Error) item, CancellationToken cancellationToken)
    {
        if (item.Given is not null)
        {
            return ValueTask.FromResult<ScanResult?>(item.Given);
        }

        // Without VirusTotal nothing is awaited (the lists and the cache answer from memory): no state machine per
        // file, and none of their generic code compiled by the JIT at start.
        if (_client is null)
        {
            return ValueTask.FromResult(ClassifyLocally(item.Path, (item.Digest, item.Error), isWalked: true));
        }

        return NextWithLookupsAsync(item, cancellationToken);
    }

    private async ValueTask<ScanResult?> NextWithLookupsAsync((string Path, ScanResult? Given, ContentHashes? Digest, string? Error) item, CancellationToken cancellationToken) =>
        await ClassifyAsync(item.Path, (item.Digest, item.Error), isWalked: true, cancellationToken);

    private async IAsyncEnumerable<ScanResult> WalkWithEnginesAsync(string root, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The walk runs ahead of the verdicts by a window of files being read and hashed on several threads at
        // once (reading and hashing are the cost); the verdicts come one at a time, in the walk's order.
        var window = new Queue<(string Path, Task<Hashed>? Hashing, ScanResult? Result)>();

        // Wide enough that every engine has as many scans in flight as it runs at once (clamd's pipelined session).
        var limit = Math.Max(Math.Max(1, HashingParallelism) * 16, 2 * Engines.Select(e => e.MaxConcurrentScans).DefaultIfEmpty(0).Max());
        using var gate = new SemaphoreSlim(HashingParallelism);
        var kinds = _local.Kinds;
        foreach (var (path, result) in Walk(root, cancellationToken))
        {
            window.Enqueue(result is null ? (path, HashAsync(path, kinds, gate, cancellationToken), null) : (path, null, result));
            while (window.Count >= limit)
            {
                if (await NextWithEnginesAsync(window.Dequeue(), cancellationToken) is { } next)
                {
                    yield return next;
                }
            }
        }

        while (window.Count > 0)
        {
            if (await NextWithEnginesAsync(window.Dequeue(), cancellationToken) is { } next)
            {
                yield return next;
            }
        }
    }

    private async Task<ScanResult?> NextWithEnginesAsync((string Path, Task<Hashed>? Hashing, ScanResult? Result) item, CancellationToken cancellationToken)
    {
        if (item.Hashing is null)
        {
            return item.Result;
        }

        var hashed = await item.Hashing;
        return await ClassifyAsync(item.Path, (hashed.Digest, hashed.Error), isWalked: true, cancellationToken) is { } result
            ? WithEngines(result, hashed.Engines)
            : null;
    }

    /// <summary>A file's digests (or why not), and what every engine said of it (null: no engine ran).</summary>
    private sealed record Hashed(ContentHashes? Digest, string? Error, IReadOnlyList<Engines.EngineResult>? Engines);

    // One file, opened once without following a symlink: hashed (at most HashingParallelism at once, through the
    // gate), then, when it is not empty, scanned by every engine through the same descriptor, so what the engines
    // read is the file that was hashed. The engines run outside the gate, so the walk hashes on while clamd answers.
    private async Task<Hashed> HashAsync(string path, HashKinds kinds, SemaphoreSlim? gate, CancellationToken cancellationToken)
    {
        using var handle = RegularFile.TryOpenHandle(path, out var error);
        if (handle is null)
        {
            return new Hashed(null, error, null);
        }

        if (gate is not null)
        {
            await gate.WaitAsync(cancellationToken);
        }

        (ContentHashes? Digest, string? Error) hashed;
        try
        {
            // A small file is hashed where it is (a hop to another thread costs more than its hash); a large one on
            // the thread pool, so that several are hashed at once and the thread walking (or reading clamd's replies)
            // is not held up.
            hashed = RandomAccess.GetLength(handle) <= InlineHashLimit
                ? RegularFile.TryHash(handle, kinds)
                : await Task.Run(() => RegularFile.TryHash(handle, kinds), cancellationToken);
        }
        finally
        {
            gate?.Release();
        }

        if (Engines.Count == 0 || hashed.Digest is not { Length: > 0 })
        {
            return new Hashed(hashed.Digest, hashed.Error, null);
        }

        await using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        var results = new List<Engines.EngineResult>(Engines.Count);
        foreach (var engine in Engines)
        {
            results.Add(await engine.ScanAsync(stream, cancellationToken));
        }

        return new Hashed(hashed.Digest, null, results);
    }

    /// <summary>Depth first, names in byte order: each file to hash (no result yet), or a result to give as it is.</summary>
    private IEnumerable<(string Path, ScanResult? Result)> Walk(string root, CancellationToken cancellationToken)
    {
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var directory = pending.Pop();

            // readdir, not .NET's enumeration, which turns a name that is not valid UTF-8 into one that does not exist.
            if (DirectoryEntries.TryRead(directory) is not { } listed)
            {
                yield return (directory, Error(directory, LibC.Describe(Marshal.GetLastPInvokeError())));
                continue;
            }

            DirectoriesScanned++;
            var subdirectories = new List<string>();
            var files = new List<string>();
            // Names are unique in a directory: an unstable sort gives the same order as a stable one.
            listed.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            foreach (var entry in listed)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var path = Path.Combine(directory, entry.Name);
                if (entry.IsSymlink)
                {
                    // A symbolic link: never followed, so a walk cannot leave the tree it was given; said, not hidden.
                    yield return (path, new ScanResult(path, ScanVerdict.Skipped, $"symbolic link to {LinkText(path)}, not followed"));
                }
                else if (entry.IsDirectory)
                {
                    subdirectories.Add(path);
                }
                else
                {
                    files.Add(path);
                }
            }

            // A directory's links are said first, then its files.
            foreach (var file in files)
            {
                yield return (file, null);
            }

            for (var i = subdirectories.Count - 1; i >= 0; i--)
            {
                pending.Push(subdirectories[i]);
            }
        }
    }

    /// <summary>The result for one file; null for a FIFO, socket or device met in a walk (nothing to scan).</summary>
    private async Task<ScanResult?> ClassifyAsync(string shownPath, (ContentHashes? Digest, string? Error) hashed, bool isWalked, CancellationToken cancellationToken)
    {
        var (digest, error) = hashed;
        if (digest is null)
        {
            return Unhashed(shownPath, error, isWalked);
        }

        return await VerdictAsync(shownPath, digest.Value, cancellationToken) with { Size = digest.Value.Length };
    }

    /// <summary><see cref="ClassifyAsync"/> without VirusTotal: the digest, the lists and the cache answer from memory.</summary>
    private ScanResult? ClassifyLocally(string shownPath, (ContentHashes? Digest, string? Error) hashed, bool isWalked)
    {
        var (digest, error) = hashed;
        if (digest is null)
        {
            return Unhashed(shownPath, error, isWalked);
        }

        return (LocalVerdict(shownPath, digest.Value) ?? NoKey(shownPath, digest.Value)) with { Size = digest.Value.Length };
    }

    /// <summary>A file that could not be hashed: an error, or nothing for a FIFO, socket or device met in a walk.</summary>
    private static ScanResult? Unhashed(string shownPath, string? error, bool isWalked) =>
        isWalked && error == RegularFile.NotRegularFile ? null : Error(shownPath, error ?? "unreadable");

    private static ScanResult NoKey(string shownPath, ContentHashes digest) =>
        new(shownPath, ScanVerdict.Unknown, "no list match; VirusTotal not configured (no API key)") { Sha256 = digest.Sha256 };

    /// <summary>The verdict from the digest, the lists or the cache; null when only VirusTotal could tell.</summary>
    private ScanResult? LocalVerdict(string shownPath, ContentHashes digest)
    {
        if (digest.Length == 0)
        {
            return new ScanResult(shownPath, ScanVerdict.Clean, "empty") { Sha256 = digest.Sha256 };
        }

        foreach (var list in _local.Lists)
        {
            if (list.TryMatch(digest.Sha256, out var threat) || list.TryMatch(digest.Sha1, out threat) || list.TryMatch(digest.Md5, out threat))
            {
                return new ScanResult(shownPath, ScanVerdict.Malicious, threat is null ? $"list {list.Name}" : $"list {list.Name}: {threat}")
                {
                    Source = list.Name,
                    Sha256 = digest.Sha256,
                };
            }
        }

        return _cache?.TryGet(digest.Sha256!) is { } cached ? FromVerdict(shownPath, digest, cached, isCached: true) : null;
    }

    private async Task<ScanResult> VerdictAsync(string shownPath, ContentHashes digest, CancellationToken cancellationToken)
    {
        if (LocalVerdict(shownPath, digest) is { } known)
        {
            return known;
        }

        if (_client is null || _cache is null || _quota is null)
        {
            return NoKey(shownPath, digest);
        }

        return await LookUpAsync(shownPath, digest, _client, _cache, _quota, cancellationToken);
    }

    private async Task<ScanResult> LookUpAsync(string path, ContentHashes digest, VirusTotalClient client, VerdictCache cache, QuotaGate gate, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_rejection is not null)
            {
                return NotLookedUp(path, digest, _rejection);
            }

            if (gate.Check() is { } block)
            {
                if (!_shouldWait)
                {
                    var quota = block.Kind == QuotaKind.Daily ? "daily" : "minute";
                    return NotLookedUp(path, digest,
                        $"not looked up: the {quota} quota is spent until {block.Until.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC (--wait waits)");
                }

                var delay = block.Until - _time.GetUtcNow();
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, _time, cancellationToken);
                }

                continue;
            }

            var outcome = await gate.SendAsync(() => client.GetFileReportAsync(digest.Sha256!, cancellationToken));
            switch (outcome)
            {
                case LookupOutcome.Verdict verdict:
                    cache.Put(verdict.Value);
                    return FromVerdict(path, digest, verdict.Value, isCached: false);
                case LookupOutcome.QuotaExceeded quota:
                    var now = _time.GetUtcNow();
                    var until = quota.RetryAfter is { } after ? now + after
                        : quota.Kind == QuotaKind.Daily ? QuotaGate.NextUtcMidnight(now)
                        : now + TimeSpan.FromMinutes(1);
                    gate.BackOff(until, quota.Kind == QuotaKind.Daily ? QuotaKind.Daily : QuotaKind.Minute);
                    continue;
                case LookupOutcome.Rejected rejected:
                    _rejection = $"not looked up: {client.Peer} rejected the API key";
                    return Error(path, $"{client.Peer} rejected the API key ({rejected.HttpStatus} {rejected.Code})".TrimEnd()) with { Sha256 = digest.Sha256 };
                case LookupOutcome.TimedOut timedOut:
                    return Error(path, timedOut.Detail) with { Sha256 = digest.Sha256 };
                case LookupOutcome.Transient transient:
                    return Error(path, transient.Detail) with { Sha256 = digest.Sha256 };
                case LookupOutcome.Malformed malformed:
                    return Error(path, malformed.Detail) with { Sha256 = digest.Sha256 };
                default:
                    throw new InvalidOperationException($"unexpected outcome {outcome}");
            }
        }
    }

    private ScanResult FromVerdict(string path, ContentHashes digest, FileVerdict verdict, bool isCached)
    {
        var suffix = isCached ? " (cached)" : "";
        if (!verdict.IsFound)
        {
            return new ScanResult(path, ScanVerdict.Unknown, $"not found on VirusTotal{suffix}") { Source = "virustotal", Sha256 = digest.Sha256, IsCached = isCached };
        }

        var isMalicious = verdict.Positives >= _options.MinPositives;
        var label = isMalicious && verdict.SuggestedThreatLabel is { } l ? $" {l}" : "";
        return new ScanResult(path, isMalicious ? ScanVerdict.Malicious : ScanVerdict.Clean, $"virustotal {verdict.Positives}/{verdict.Total}{label}{suffix}")
        {
            Source = "virustotal",
            Sha256 = digest.Sha256,
            Positives = verdict.Positives,
            Total = verdict.Total,
            IsCached = isCached,
        };
    }

    // What the engines said of the file (each read it through the descriptor it was hashed through).
    private static ScanResult WithEngines(ScanResult result, IReadOnlyList<Engines.EngineResult>? results)
    {
        if (results is null || result.Sha256 is null || result.Size is null or 0)
        {
            return result;
        }

        var found = results.Where(r => r.Outcome == Intel.Engines.EngineOutcome.Detected).ToList();
        var problems = results.Where(r => r.Outcome is Intel.Engines.EngineOutcome.Failed or Intel.Engines.EngineOutcome.Unavailable or Intel.Engines.EngineOutcome.Skipped).ToList();
        var detail = string.Join("; ", found.Select(r => $"{r.Engine} {r.Name}").Concat(problems.Select(r => $"{r.Engine}: {r.Detail}")));
        if (found.Count > 0)
        {
            var isListed = result.Verdict == ScanVerdict.Malicious;
            return result with
            {
                Verdict = ScanVerdict.Malicious,
                Detail = isListed ? $"{result.Detail}; {detail}" : detail,
                Source = isListed ? $"{result.Source},{string.Join(",", found.Select(r => r.Engine))}" : string.Join(",", found.Select(r => r.Engine)),
                EngineResults = results,
            };
        }

        var isFailed = problems.Any(r => r.Outcome is Intel.Engines.EngineOutcome.Failed or Intel.Engines.EngineOutcome.Unavailable) && result.Verdict != ScanVerdict.Malicious;
        return result with
        {
            Verdict = isFailed ? ScanVerdict.Error : result.Verdict,
            Detail = problems.Count > 0 ? $"{result.Detail}; {detail}" : result.Verdict == ScanVerdict.Unknown ? $"no engine matched ({string.Join(", ", results.Select(r => r.Engine))}); {result.Detail}" : result.Detail,
            EngineResults = results,
        };
    }

    private static ScanResult NotLookedUp(string path, ContentHashes digest, string detail) =>
        new(path, ScanVerdict.Unknown, detail) { Sha256 = digest.Sha256, IsNotLookedUp = true };

    private static ScanResult Error(string path, string detail) => new(path, ScanVerdict.Error, detail);
}
