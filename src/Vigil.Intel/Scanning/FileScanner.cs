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
                await foreach (var result in WalkAsync(path, cancellationToken))
                {
                    yield return result;
                }
            }
            else if (status is not null)
            {
                // Named on the command line: a link is followed to its target; the result keeps the name given.
                var target = FileStatus.TryGet(path, followLinks: false)?.IsSymlink == true ? LinkTarget(path) : path;
                var hashed = await Task.Run(() => RegularFile.TryHash(target, _local.Kinds), cancellationToken);
                var result = await ClassifyAsync(path, hashed, isWalked: false, cancellationToken) ?? Error(path, "not a regular file");
                yield return await WithEnginesAsync(result, target, cancellationToken);
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

    private async IAsyncEnumerable<ScanResult> WalkAsync(string root, [EnumeratorCancellation] CancellationToken cancellationToken)
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

        // Without VirusTotal and engines nothing is awaited (the lists and the cache answer from memory): no state
        // machine per file, and none of their generic code compiled by the JIT at start.
        if (_client is null && Engines.Count == 0)
        {
            return ValueTask.FromResult(ClassifyLocally(item.Path, (item.Digest, item.Error), isWalked: true));
        }

        return NextWithLookupsAsync(item, cancellationToken);
    }

    private async ValueTask<ScanResult?> NextWithLookupsAsync((string Path, ScanResult? Given, ContentHashes? Digest, string? Error) item, CancellationToken cancellationToken) =>
        await ClassifyAsync(item.Path, (item.Digest, item.Error), isWalked: true, cancellationToken) is { } result
            ? await WithEnginesAsync(result, item.Path, cancellationToken)
            : null;

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

    // Every engine reads the file through one descriptor opened without following a symlink; the content must still
    // be the one hashed (a file changed in between is said so, not scanned as if it were the same).
    private async Task<ScanResult> WithEnginesAsync(ScanResult result, string path, CancellationToken cancellationToken)
    {
        if (Engines.Count == 0 || result.Sha256 is null || result.Size is null or 0)
        {
            return result;
        }

        await using var stream = RegularFile.TryOpen(path, out var error);
        if (stream is null)
        {
            return result with { Verdict = result.Verdict == ScanVerdict.Malicious ? ScanVerdict.Malicious : ScanVerdict.Error, Detail = $"{result.Detail}; engines: {error}" };
        }

        if (!string.Equals(FileHashes.Compute(stream.SafeFileHandle, 128 * 1024).Sha256, result.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            return result with { Verdict = result.Verdict == ScanVerdict.Malicious ? ScanVerdict.Malicious : ScanVerdict.Error, Detail = $"{result.Detail}; engines: the file changed while it was scanned" };
        }

        var results = new List<Engines.EngineResult>();
        foreach (var engine in Engines)
        {
            results.Add(await engine.ScanAsync(stream, cancellationToken));
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
