using System.Runtime.InteropServices;
using System.Threading.Channels;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Core.Native;
using Vigil.Fim.Baseline;
using Vigil.Fim.Events;
using Vigil.Fim.Native;
using Vigil.Fim.Scanning;

namespace Vigil.Fim.Realtime;

/// <summary>A path for the realtime workers to check now (<see cref="Attempt"/> counts re-checks after staleness).</summary>
internal sealed record RealtimeWork(string Path, int Attempt = 0);

/// <summary>
/// Realtime monitoring with raw inotify. One reader thread owns the inotify descriptor and the watch table; it never
/// hashes and never blocks: paths go to a bounded queue read by hashing workers, and when that queue is full the path's
/// directory is handed to the rescan queue instead (reconciled by a scan, so nothing is lost and the reader keeps draining
/// the kernel queue). New directories are watched and scanned at once (the mkdir race); configured directories that do
/// not exist are waited for with a watch on their nearest existing parent; IN_Q_OVERFLOW sends the rule-560 message and
/// rescans every realtime tree; watches that cannot be added (ENOSPC, or <see cref="WatchLimit"/>) are reported once.
/// </summary>
internal sealed class InotifyWatcher : IDisposable
{
    private const uint IN_MASK_ADD = 0x20000000;
    private const uint FileEvents = FimLibC.IN_CLOSE_WRITE | FimLibC.IN_MOVED_FROM | FimLibC.IN_MOVED_TO | FimLibC.IN_CREATE
        | FimLibC.IN_DELETE | FimLibC.IN_DELETE_SELF | FimLibC.IN_MOVE_SELF | FimLibC.IN_ATTRIB;
    private const uint WatchMask = FileEvents | FimLibC.IN_ONLYDIR | FimLibC.IN_EXCL_UNLINK;
    private const uint AnchorMask = FimLibC.IN_CREATE | FimLibC.IN_MOVED_TO | FimLibC.IN_DELETE_SELF | FimLibC.IN_MOVE_SELF | FimLibC.IN_ONLYDIR | IN_MASK_ADD;
    private const uint CheckNow = FimLibC.IN_CLOSE_WRITE | FimLibC.IN_MOVED_FROM | FimLibC.IN_MOVED_TO | FimLibC.IN_DELETE;

    private readonly PathScope _scope;
    private readonly FileInspector _inspector;
    private readonly BaselineWriter _writer;
    private readonly RescanQueue _rescans;
    private readonly Action<EventMessage> _notice;
    private readonly TimeProvider _time;
    private readonly SettleTracker _settle;
    private readonly Channel<RealtimeWork> _work;
    private readonly Dictionary<int, Watch> _byWd = [];
    private readonly Dictionary<string, int> _byPath = new(StringComparer.Ordinal);
    private readonly HashSet<string> _exhausted = new(StringComparer.Ordinal);
    private readonly List<string> _newlyExhausted = [];
    private readonly DirectoryOptions[] _roots;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private int _fd = -1;
    private Thread? _reader;
    private bool _overflowReported;
    private int _watchCount;
    private int _inFlight;
    private long _lastEvent;

    public InotifyWatcher(
        PathScope scope, FileInspector inspector, BaselineWriter writer, RescanQueue rescans, Action<EventMessage> notice, TimeProvider time, int queueCapacity)
    {
        _scope = scope;
        _inspector = inspector;
        _writer = writer;
        _rescans = rescans;
        _notice = notice;
        _time = time;
        _settle = new SettleTracker(time);
        _work = Channel.CreateBounded<RealtimeWork>(new BoundedChannelOptions(queueCapacity) { SingleWriter = false });
        _roots = [.. scope.Options.Directories.Where(d => d.Realtime || d.Whodata)];
    }

    /// <summary>At most this many watches (Vigil's own cap below the kernel's max_user_watches).</summary>
    public int WatchLimit { get; init; } = int.MaxValue;

    /// <summary>Completes when the watches of every existing realtime directory are in place.</summary>
    public Task Ready => _ready.Task;

    public int WatchCount => Volatile.Read(ref _watchCount);

    /// <summary>Whether events were read lately or paths wait to be hashed or to settle.</summary>
    public bool IsBusy =>
        _work.Reader.Count > 0 || Volatile.Read(ref _inFlight) > 0 || _settle.Count > 0
        || _time.GetElapsedTime(Interlocked.Read(ref _lastEvent)) < TimeSpan.FromMilliseconds(500);

    public void Start()
    {
        _fd = FimLibC.inotify_init1(FimLibC.IN_NONBLOCK | FimLibC.IN_CLOEXEC);
        if (_fd < 0)
        {
            throw new Core.VigilException($"inotify_init1 failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "fim-inotify" };
        _reader.Start();
        for (var i = 0; i < Math.Max(2, Environment.ProcessorCount); i++)
        {
            _tasks.Add(Task.Run(() => WorkAsync(_stop.Token)));
        }

        _tasks.Add(Task.Run(() => SettleLoopAsync(_stop.Token)));
    }

    /// <summary>Queues a fresh look at a path without blocking; a full queue turns into a rescan of its directory.</summary>
    public void Recheck(string path, int attempt) => Queue(new RealtimeWork(path, Attempt: attempt));

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        _work.Writer.TryComplete();
        _reader?.Join();
        try
        {
            await Task.WhenAll(_tasks);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            _ = LibC.Close(_fd);
            _fd = -1;
        }

        _stop.Dispose();
    }

    private unsafe void ReadLoop()
    {
        try
        {
            ResolveRoots(initial: true);
            ReportExhaustion();
            _ready.TrySetResult();
        }
        catch (Exception e)
        {
            _ready.TrySetException(e);
            return;
        }

        var buffer = new byte[256 * 1024];
        var batch = new Dictionary<string, uint>(StringComparer.Ordinal);
        var pollFd = new FimLibC.PollFd { Fd = _fd, Events = FimLibC.POLLIN };
        var lastResolve = _time.GetTimestamp();
        while (!_stop.IsCancellationRequested)
        {
            var ready = FimLibC.poll(&pollFd, 1, 200);
            if (ready <= 0)
            {
                if (_time.GetElapsedTime(lastResolve) > TimeSpan.FromSeconds(5))
                {
                    // A safety net for pending directories whose parent events were missed.
                    ResolveRoots(initial: false);
                    ReportExhaustion();
                    lastResolve = _time.GetTimestamp();
                }

                continue;
            }

            nint read;
            fixed (byte* b = buffer)
            {
                read = LibC.Read(_fd, b, (nuint)buffer.Length);
            }

            if (read <= 0)
            {
                continue;
            }

            Interlocked.Exchange(ref _lastEvent, _time.GetTimestamp());

            var rootsChanged = false;
            for (var offset = 0; offset + 16 <= read;)
            {
                var wd = BitConverter.ToInt32(buffer, offset);
                var mask = BitConverter.ToUInt32(buffer, offset + 4);
                var length = (int)BitConverter.ToUInt32(buffer, offset + 12);
                var nameBytes = buffer.AsSpan(offset + 16, length);
                var end = nameBytes.IndexOf((byte)0);
                var name = PathBytes.FromBytes(end >= 0 ? nameBytes[..end] : nameBytes);
                offset += 16 + length;
                rootsChanged |= Handle(wd, mask, name, batch);
            }

            Dispatch(batch);
            batch.Clear();
            if (rootsChanged)
            {
                ResolveRoots(initial: false);
                lastResolve = _time.GetTimestamp();
            }

            ReportExhaustion();
        }
    }

    /// <summary>Handles one event; returns true when watched directories disappeared (configured roots may need a new watch).</summary>
    private bool Handle(int wd, uint mask, string name, Dictionary<string, uint> batch)
    {
        if ((mask & FimLibC.IN_Q_OVERFLOW) != 0)
        {
            OnOverflow();
            return false;
        }

        if (!_byWd.TryGetValue(wd, out var watch))
        {
            return false;
        }

        if ((mask & FimLibC.IN_IGNORED) != 0)
        {
            Forget(wd);
            return true;
        }

        if ((mask & (FimLibC.IN_DELETE_SELF | FimLibC.IN_MOVE_SELF)) != 0)
        {
            return OnSelfGone(wd, watch, batch);
        }

        var path = watch.Path == "/" ? "/" + name : watch.Path + "/" + name;
        if ((mask & FimLibC.IN_ISDIR) != 0)
        {
            if ((mask & (FimLibC.IN_CREATE | FimLibC.IN_MOVED_TO)) != 0)
            {
                OnDirectoryAppeared(path);
            }

            if ((mask & (FimLibC.IN_DELETE | FimLibC.IN_MOVED_FROM)) != 0 && !watch.IsAnchor)
            {
                batch[path] = batch.GetValueOrDefault(path) | FimLibC.IN_DELETE;
            }

            return false;
        }

        if (!watch.IsAnchor)
        {
            batch[path] = batch.GetValueOrDefault(path) | mask;
        }

        return false;
    }

    private void Dispatch(Dictionary<string, uint> batch)
    {
        foreach (var (path, mask) in batch)
        {
            if ((mask & CheckNow) != 0)
            {
                _settle.Cancel(path);
                Queue(new RealtimeWork(path));
            }
            else if ((mask & FimLibC.IN_CREATE) != 0)
            {
                // Held briefly, on this thread: its close is usually in the next read, and then only the close's own
                // check is done. In a burst, a look by a worker at each creation cost a statx and a hand-off per file,
                // and about one creation in six had its close come after that look and was checked a second time.
                _settle.Created(path);
            }
            else if ((mask & FimLibC.IN_ATTRIB) != 0 && !_settle.IsPending(path))
            {
                Queue(new RealtimeWork(path));
            }
        }
    }

    private void Queue(RealtimeWork work)
    {
        if (!_work.Writer.TryWrite(work) && !_stop.IsCancellationRequested)
        {
            // The hashing queue is full: never wait here; reconcile the directory against the baseline instead.
            _rescans.Request(Path.GetDirectoryName(work.Path) ?? "/", recursive: false);
        }
    }

    private void OnOverflow()
    {
        if (!_overflowReported)
        {
            _overflowReported = true;
            _notice(FimMessages.QueueOverflow());
        }

        foreach (var root in _roots)
        {
            _rescans.Request(root.Path, recursive: true);
        }
    }

    /// <summary>Called by the service when the rescans that recover from an overflow have run.</summary>
    public void OverflowRecovered() => _overflowReported = false;

    private void OnDirectoryAppeared(string path)
    {
        if (_scope.Resolve(path, isDirectory: true) is { } directory && (directory.Realtime || directory.Whodata) && !_exhausted.Contains(directory.Path))
        {
            AddTree(path);
            _rescans.Request(path, recursive: true);
        }

        if (_roots.Any(r => IsAtOrBelow(r.Path, path) && !IsWatched(r.Path)))
        {
            ResolveRoots(initial: false);
        }
    }

    private bool OnSelfGone(int wd, Watch watch, Dictionary<string, uint> batch)
    {
        var status = FileStatus.TryGet(watch.Path, followLinks: true);
        if (status is { IsDirectory: true } s && s.Inode == watch.Inode)
        {
            return false; // moved and re-added under this same path, or an ancestor moved back
        }

        foreach (var (otherWd, other) in _byWd.Where(w => IsAtOrBelow(w.Value.Path, watch.Path)).ToList())
        {
            _ = FimLibC.inotify_rm_watch(_fd, otherWd);
            Forget(otherWd);
            _ = other;
        }

        if (!watch.IsAnchor)
        {
            batch[watch.Path] = batch.GetValueOrDefault(watch.Path) | FimLibC.IN_DELETE;
        }

        _ = wd;
        return true;
    }

    /// <summary>Watches every realtime root that exists and is not watched yet; waits for the others on their nearest parent.</summary>
    private void ResolveRoots(bool initial)
    {
        foreach (var root in _roots)
        {
            if (IsWatched(root.Path) || _exhausted.Contains(root.Path))
            {
                continue;
            }

            for (var guard = 0; guard < 64; guard++)
            {
                if (FileStatus.TryGet(root.Path, root.FollowSymbolicLink) is { IsDirectory: true })
                {
                    AddTree(root.Path);
                    if (!initial)
                    {
                        // It appeared (or reappeared) after start: what it already holds is new.
                        _rescans.Request(root.Path, recursive: true);
                    }

                    break;
                }

                var anchor = NearestExistingAncestor(root.Path);
                if (anchor is null || AddWatch(anchor, null, isAnchor: true) < 0)
                {
                    break;
                }

                // The next component may have been created before the anchor took effect: look again.
                var next = NextComponent(anchor, root.Path);
                if (FileStatus.TryGet(next, followLinks: true) is not { IsDirectory: true })
                {
                    break;
                }
            }
        }
    }

    /// <summary>Adds watches on a directory and every subdirectory in realtime scope (directories only; files are scanned elsewhere).</summary>
    private void AddTree(string top)
    {
        var stack = new Stack<string>();
        stack.Push(top);
        while (stack.Count > 0)
        {
            var directory = stack.Pop();
            if (_scope.Resolve(directory, isDirectory: true) is not { } options || !(options.Realtime || options.Whodata))
            {
                continue;
            }

            if (AddWatch(directory, options, isAnchor: false) < 0)
            {
                continue;
            }

            foreach (var child in DirectoryEntries.TryRead(directory) ?? [])
            {
                if (child.IsDirectory && !child.IsSymlink)
                {
                    stack.Push(Path.Join(directory, child.Name));
                }
            }
        }
    }

    private int AddWatch(string path, DirectoryOptions? options, bool isAnchor)
    {
        if (_byPath.TryGetValue(path, out var existing) && (isAnchor || !_byWd[existing].IsAnchor))
        {
            return existing;
        }

        if (_byWd.Count >= WatchLimit && !_byPath.ContainsKey(path))
        {
            Exhausted(options, path);
            return -1;
        }

        var follow = options is not null && options.FollowSymbolicLink && path == options.Path;
        var mask = isAnchor ? AnchorMask : WatchMask | (follow ? 0 : FimLibC.IN_DONT_FOLLOW);
        var wd = FimLibC.inotify_add_watch(_fd, path, mask);
        if (wd < 0)
        {
            if (Marshal.GetLastPInvokeError() == LibC.ENOSPC)
            {
                Exhausted(options, path);
            }

            return -1;
        }

        if (_byWd.TryGetValue(wd, out var previous) && previous.Path != path)
        {
            _byPath.Remove(previous.Path);
        }

        var inode = FileStatus.TryGet(path, followLinks: true)?.Inode ?? 0;
        if (_byPath.TryGetValue(path, out var stale) && stale != wd)
        {
            _byWd.Remove(stale);
        }

        _byWd[wd] = new Watch(path, inode, isAnchor && !(previous is { IsAnchor: false } && previous.Path == path));
        _byPath[path] = wd;
        Volatile.Write(ref _watchCount, _byWd.Count);
        return wd;
    }

    private void Forget(int wd)
    {
        if (_byWd.Remove(wd, out var watch) && _byPath.TryGetValue(watch.Path, out var current) && current == wd)
        {
            _byPath.Remove(watch.Path);
        }

        Volatile.Write(ref _watchCount, _byWd.Count);
    }

    private void Exhausted(DirectoryOptions? options, string path)
    {
        var root = options?.Path ?? path;
        bool added;
        lock (_exhausted)
        {
            added = _exhausted.Add(root);
        }

        if (added)
        {
            _newlyExhausted.Add(root);
        }
    }

    private void ReportExhaustion()
    {
        if (_newlyExhausted.Count > 0)
        {
            _notice(FimMessages.WatchesExhausted(_newlyExhausted));
            _newlyExhausted.Clear();
        }
    }

    /// <summary>The realtime roots some of whose directories could not be watched (ENOSPC or the watch limit).</summary>
    public IReadOnlyList<string> ExhaustedRoots
    {
        get
        {
            lock (_exhausted)
            {
                return [.. _exhausted];
            }
        }
    }

    private bool IsWatched(string path) => _byPath.TryGetValue(path, out var wd) && !_byWd[wd].IsAnchor;

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var work in _work.Reader.ReadAllAsync(cancellationToken))
            {
                Interlocked.Increment(ref _inFlight);
                try
                {
                    await ProcessAsync(work, cancellationToken);
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task ProcessAsync(RealtimeWork work, CancellationToken cancellationToken)
    {
        if (_scope.DirectoryFor(work.Path) is not { } directory || !(directory.Realtime || directory.Whodata))
        {
            return;
        }

        var inspection = _inspector.Inspect(work.Path, directory);
        if (inspection is Inspected && _scope.Resolve(work.Path, isDirectory: false) is null)
        {
            return;
        }

        await _writer.Changes.WriteAsync(new Observed(inspection, directory, "realtime", work.Attempt), cancellationToken);
    }

    private async Task SettleLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken);
                foreach (var path in _settle.TakeDue())
                {
                    if (FileStatus.TryGet(path, followLinks: false) is { IsRegularFile: true } status
                        && _settle.IsRecentlyWritten(status.MtimeSeconds, status.MtimeNanos))
                    {
                        _settle.Arm(path);
                    }
                    else
                    {
                        Queue(new RealtimeWork(path));
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static string? NearestExistingAncestor(string path)
    {
        var parent = Path.GetDirectoryName(path);
        while (parent is not null && FileStatus.TryGet(parent, followLinks: true) is not { IsDirectory: true })
        {
            parent = Path.GetDirectoryName(parent);
        }

        return parent;
    }

    private static string NextComponent(string ancestor, string path)
    {
        var start = ancestor == "/" ? 1 : ancestor.Length + 1;
        var slash = path.IndexOf('/', start);
        return slash < 0 ? path : path[..slash];
    }

    private static bool IsAtOrBelow(string path, string directory) =>
        path == directory || directory == "/" || path.StartsWith(directory + "/", StringComparison.Ordinal);

    private sealed record Watch(string Path, ulong Inode, bool IsAnchor);
}
