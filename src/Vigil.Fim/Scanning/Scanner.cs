using System.Threading.Channels;
using Vigil.Core.Configuration;
using Vigil.Core.Native;
using Vigil.Fim.Baseline;
using Vigil.Fim.Events;
using Vigil.Fim.Native;

namespace Vigil.Fim.Scanning;

/// <summary>A full scan under way: what it has looked at so far and for how long.</summary>
internal sealed record ScanProgress(long Files, long Bytes, TimeSpan Elapsed);

/// <summary>One tree (or one directory's direct entries when not recursive) to scan.</summary>
internal sealed record ScanTarget(string Path, bool Recursive = true);

/// <summary>
/// Walks trees and feeds every in-scope file to hashing workers (one per core, on their own threads at
/// <c>process_priority</c>), whose observations go to the baseline writer. At the end of each target, rows below it that the
/// walk did not see are looked at again: gone ones are reported deleted (Wazuh: deletions at the end of a scheduled scan).
/// </summary>
internal sealed class Scanner(PathScope scope, FileInspector inspector, BaselineWriter writer, TimeProvider time, RecheckRequest recheck)
{
    private long _files;
    private long _bytes;

    /// <summary>Files looked at by every scan since start (for progress).</summary>
    public long FilesScanned => Interlocked.Read(ref _files);

    /// <summary>Bytes of the files looked at since start (for progress).</summary>
    public long BytesScanned => Interlocked.Read(ref _bytes);

    private readonly Lock _current = new();
    private (long Files, long Bytes, long Started)? _running;

    /// <summary>The last full scan that ended (its files, bytes and duration), or null before the first ends.</summary>
    public ScanProgress? Last { get; private set; }

    /// <summary>The full scan under way (files and bytes since it started, how long it has run), or null.</summary>
    public ScanProgress? Current
    {
        get
        {
            lock (_current)
            {
                return _running is { } r ? new ScanProgress(FilesScanned - r.Files, BytesScanned - r.Bytes, time.GetElapsedTime(r.Started)) : null;
            }
        }
    }

    /// <summary>Worker threads per scan; the number of cores by default.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Scans the targets. <paramref name="mode"/> is the event mode; <paramref name="fullScan"/> marks configured roots as
    /// baselined afterwards and brackets the scan with scan_start/scan_end.
    /// </summary>
    public async Task ScanAsync(IReadOnlyList<ScanTarget> targets, string mode, bool fullScan, CancellationToken cancellationToken)
    {
        if (fullScan)
        {
            lock (_current)
            {
                _running = (FilesScanned, BytesScanned, time.GetTimestamp());
            }

            await writer.Changes.WriteAsync(new Notice(FimMessages.ScanStart(Now())), cancellationToken);
        }

        try
        {
            await ScanTargetsAsync(targets, mode, fullScan, cancellationToken);
        }
        finally
        {
            if (fullScan)
            {
                lock (_current)
                {
                    if (_running is { } r)
                    {
                        Last = new ScanProgress(FilesScanned - r.Files, BytesScanned - r.Bytes, time.GetElapsedTime(r.Started));
                    }

                    _running = null;
                }
            }
        }

        if (fullScan)
        {
            await writer.Changes.WriteAsync(new Notice(FimMessages.ScanEnd(Now())), cancellationToken);
        }
    }

    private async Task ScanTargetsAsync(IReadOnlyList<ScanTarget> targets, string mode, bool fullScan, CancellationToken cancellationToken)
    {
        foreach (var target in Expand(targets))
        {
            if (scope.DirectoryFor(target.Path) is not { } directory)
            {
                continue;
            }

            var seen = await WalkAsync(target, directory, mode, cancellationToken);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await writer.Changes.WriteAsync(
                new WriterAction(w =>
                {
                    DetectDeletions(w, target, directory, seen, mode);
                    if (fullScan && target.Path == directory.Path)
                    {
                        w.MarkBaselined(directory.Path);
                    }
                }, done),
                cancellationToken);
            await done.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Adds the configured directories nested in the targets: the walk of a tree skips them.</summary>
    private IEnumerable<ScanTarget> Expand(IReadOnlyList<ScanTarget> targets)
    {
        var result = new List<ScanTarget>();
        foreach (var target in targets)
        {
            result.Add(target);
            if (target.Recursive)
            {
                result.AddRange(scope.Options.Directories
                    .Where(d => d.Path != target.Path && IsBelow(d.Path, target.Path))
                    .Select(d => new ScanTarget(d.Path)));
            }
        }

        return result.DistinctBy(t => (t.Path, t.Recursive));
    }

    private async Task<HashSet<string>> WalkAsync(ScanTarget target, DirectoryOptions directory, string mode, CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var files = Channel.CreateBounded<string>(new BoundedChannelOptions(4096) { SingleWriter = true });
        var workers = Enumerable.Range(0, Math.Max(1, Workers))
            .Select(_ => StartWorker(files.Reader, directory, mode, cancellationToken))
            .ToArray();
        try
        {
            var throttle = new FilesPerSecond(scope.Options.MaxFilesPerSecond, time);
            await foreach (var file in Enumerate(target, directory))
            {
                seen.Add(file);
                await throttle.WaitAsync(cancellationToken);
                await files.Writer.WriteAsync(file, cancellationToken);
            }
        }
        finally
        {
            files.Writer.TryComplete();
            await Task.WhenAll(workers);
        }

        return seen;
    }

    /// <summary>The in-scope files of a target, depth first; nested configured directories are left to their own target.</summary>
    private async IAsyncEnumerable<string> Enumerate(ScanTarget target, DirectoryOptions directory)
    {
        var root = target.Path;
        if (FileStatus.TryGet(root, directory.FollowSymbolicLink) is not { } rootStatus || scope.Mounts.IsSkipped(root, scope.Options))
        {
            yield break;
        }

        if (!rootStatus.IsDirectory)
        {
            if (scope.Resolve(root, isDirectory: false) is not null)
            {
                yield return root;
            }

            yield break;
        }

        if (root != directory.Path && scope.Resolve(root, isDirectory: true) is null)
        {
            yield break;
        }

        var stack = new Stack<string>();
        stack.Push(root);
        var entries = 0;
        while (stack.Count > 0)
        {
            var current = stack.Pop();
            // readdir, not .NET's enumeration: names that are not valid UTF-8 are files too (PathBytes).
            if (DirectoryEntries.TryRead(current) is not { } listed)
            {
                continue;
            }

            // In name order: the baseline's rows are keyed by path, so a directory's files then go into the same few
            // B-tree pages one after another instead of a random page each (readdir's order is the file system's hash order).
            listed.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            var children = listed.Select(e => (Path: Path.Join(current, e.Name), IsDirectory: e.IsDirectory && !e.IsSymlink));

            foreach (var (path, isDirectory) in children)
            {
                if (isDirectory)
                {
                    if (target.Recursive && !scope.IsConfiguredRoot(path) && scope.ShouldEnterDirectory(directory, path))
                    {
                        stack.Push(path);
                    }
                }
                else if (scope.IsFileInScope(directory, path))
                {
                    yield return path;
                }
            }

            // Let the workers drain between large directories instead of holding the walker's thread.
            if (++entries % 64 == 0)
            {
                await Task.Yield();
            }
        }
    }

    private Task StartWorker(ChannelReader<string> files, DirectoryOptions directory, string mode, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var priority = scope.Options.ProcessPriority;
        var thread = new Thread(() =>
        {
            try
            {
                // Linux nice values are per thread: only the scan's workers get process_priority, not the whole agent.
                _ = FimLibC.setpriority(0, FimLibC.gettid(), priority);
                while (files.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
                {
                    while (files.TryRead(out var path))
                    {
                        var inspection = inspector.Inspect(path, directory);
                        Interlocked.Increment(ref _files);
                        if (inspection is Inspected inspected)
                        {
                            Interlocked.Add(ref _bytes, inspected.Entry.Size);
                        }

                        writer.Changes.WriteAsync(new Observed(inspection, directory, mode), cancellationToken).AsTask().GetAwaiter().GetResult();
                    }
                }

                done.TrySetResult();
            }
            catch (OperationCanceledException)
            {
                done.TrySetCanceled(cancellationToken);
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "fim-scan",
        };
        thread.Start();
        return done.Task;
    }

    private void DetectDeletions(BaselineWriter w, ScanTarget target, DirectoryOptions directory, HashSet<string> seen, string mode)
    {
        var candidates = w.Store.PathsUnder(target.Path);
        if (w.Store.Get(target.Path) is not null)
        {
            candidates.Add(target.Path);
        }

        foreach (var path in candidates)
        {
            if (seen.Contains(path)
                || (!target.Recursive && Path.GetDirectoryName(path) != target.Path)
                || !ReferenceEquals(scope.DirectoryFor(path), directory))
            {
                continue;
            }

            if (FileStatus.TryGet(path, directory.FollowSymbolicLink) is not { } status)
            {
                w.ApplyGone(path, mode);
            }
            else if (status.IsDirectory || scope.Resolve(path, isDirectory: false) is null)
            {
                // Now a directory, or out of scope after a configuration change: forget it without an event.
                w.Store.Remove(path);
            }
            else
            {
                // Created after the walk passed its directory: look again rather than guess.
                recheck(path, directory, mode, 1);
            }
        }
    }

    private static bool IsBelow(string path, string directory) =>
        directory == "/" ? path.Length > 1 : path.StartsWith(directory + "/", StringComparison.Ordinal);

    private long Now() => time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary><c>max_files_per_second</c>: after that many files in one second, wait for the next second.</summary>
    private sealed class FilesPerSecond(int limit, TimeProvider time)
    {
        private long _windowStart = time.GetTimestamp();
        private int _count;

        public async ValueTask WaitAsync(CancellationToken cancellationToken)
        {
            if (limit <= 0)
            {
                return;
            }

            if (++_count <= limit)
            {
                return;
            }

            var wait = TimeSpan.FromSeconds(1) - time.GetElapsedTime(_windowStart);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, cancellationToken);
            }

            _windowStart = time.GetTimestamp();
            _count = 1;
        }
    }
}
