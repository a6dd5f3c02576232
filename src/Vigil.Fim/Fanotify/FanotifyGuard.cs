using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using Vigil.Core.Hashing;
using Vigil.Core.Native;
using Vigil.Core.Prevention;
using Vigil.Fim.Scanning;

namespace Vigil.Fim.Fanotify;

/// <summary>A directory under prevention and its mode.</summary>
internal sealed record PreventionDirectory(string Path, PreventionMode Mode)
{
    public bool Contains(string path) =>
        path.StartsWith(Path, StringComparison.Ordinal) && (path.Length == Path.Length || path[Path.Length] == '/' || Path == "/");
}

/// <summary>Counters of a running guard, for status and tests.</summary>
internal sealed record PreventionStatistics(long Events, long Excluded, long Checked, long Denied, long WouldDeny, long DeadlineHits, long Overloaded, long Errors = 0, bool IsStopped = false);

/// <summary>
/// On-access prevention with fanotify permission events (docs/prevention.md). One reader thread reads the group and
/// never blocks on anything but the group: Vigil's own processes and paths outside prevention directories are allowed
/// there at once, everything else goes to a bounded queue (full: allowed at once, alert 200804). Workers hash the content
/// through the event's descriptor only (pread; opening a marked file by path would wait on this very guard), look the
/// sha256 up and answer. A watcher answers every event still open at its deadline with the timeout policy (alert 200803).
/// Each event is answered exactly once, and its descriptor is closed only after its answer. When the group's
/// descriptor closes (stop, crash, SIGKILL) the kernel allows every access still waiting. A decision that throws is
/// answered with the timeout policy (alert 200807) and the worker goes on; a thread of the guard that ends (it should
/// not) stops the guard failing open: everything waiting is allowed, the group closes, alert 200806 says why.
/// </summary>
internal sealed partial class FanotifyGuard : IDisposable
{
    private const int ReadBufferSize = 64 * 1024;
    private const int PollMilliseconds = 200;
    private const int HashCacheLimit = 100_000;
    private const int DeadlineAlertsPerSecond = 10;
    private const int ErrorAlertsPerSecond = 10;
    private const int ShutdownJoinMilliseconds = 2000;
    private const int MaxIgnoreMarks = 8192;
    private static readonly TimeSpan ForgetCleanInterval = TimeSpan.FromMinutes(10);

    private readonly PreventionOptions _options;
    private readonly PreventionDirectory[] _directories;
    private readonly IPreventionVerdicts _verdicts;
    private readonly Action<PreventionAlert> _alert;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly HashSet<int> _excluded;
    private readonly BlockingCollection<Pending> _work;
    private readonly Queue<Pending> _deadlines = new();
    private readonly object _deadlineGate = new();
    private readonly ConcurrentDictionary<FileKey, string> _hashes = new();
    private readonly ConcurrentDictionary<(int Pid, string Path), long> _recentExecs = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Thread> _threads = [];
    private readonly long _deadlineTicks;
    private readonly Lock _shutdownGate = new();
    private volatile int _group = -1;
    private bool _isShutDown;
    private int _isStopped;
    private int _isDisposed;
    private long _errors;
    private long _errorsSuppressed;
    private int _errorAlertsThisSecond;
    private long _events;
    private long _excludedCount;
    private long _checked;
    private long _denied;
    private long _wouldDeny;
    private long _deadlineHits;
    private int _alertsInFlight;
    private long _overloaded;
    private long _overloadReported;
    private long _deadlineSuppressed;
    private int _deadlineAlertsThisSecond;
    private int _ignoreMarks;
    private long _nextForget;

    public FanotifyGuard(
        PreventionOptions options, IEnumerable<PreventionDirectory> directories, IPreventionVerdicts verdicts,
        Action<PreventionAlert> alert, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(directories);
        _options = options;
        _directories = [.. directories.OrderByDescending(d => d.Path.Length)];
        _verdicts = verdicts ?? throw new ArgumentNullException(nameof(verdicts));
        _alert = alert ?? throw new ArgumentNullException(nameof(alert));
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _excluded = [Environment.ProcessId, .. options.ExcludedPids];
        _work = new BlockingCollection<Pending>(Math.Max(1, options.QueueSize));
        _deadlineTicks = (long)(options.Deadline.TotalSeconds * _time.TimestampFrequency);
        _nextForget = _time.GetTimestamp() + (long)(ForgetCleanInterval.TotalSeconds * _time.TimestampFrequency);
    }

    /// <summary>The directories that were marked.</summary>
    public IReadOnlyList<string> Marked { get; private set; } = [];

    public bool IsRunning => _group >= 0;

    /// <summary>Whether the guard stopped on its own because one of its threads ended (it failed open).</summary>
    public bool IsStopped => Volatile.Read(ref _isStopped) != 0;

    /// <summary>
    /// A fault injection point for tests: called with a stage ("dispatch" on the reader thread, "work" on a worker
    /// outside any one decision, "decide" inside one) and the event's path; what it throws is what that stage throws.
    /// </summary>
    internal Action<string, string>? Fault { get; init; }

    public PreventionStatistics Statistics => new(
        Interlocked.Read(ref _events), Interlocked.Read(ref _excludedCount), Interlocked.Read(ref _checked), Interlocked.Read(ref _denied),
        Interlocked.Read(ref _wouldDeny), Interlocked.Read(ref _deadlineHits), Interlocked.Read(ref _overloaded), Interlocked.Read(ref _errors), IsStopped);

    /// <summary>
    /// Opens the group and marks the mount of each directory whose mode is not off and whose filesystem type is allowed.
    /// Returns the problems (one line each); the guard runs when at least one directory was marked.
    /// </summary>
    public IReadOnlyList<string> Start()
    {
        var problems = new List<string>();
        var wanted = _directories.Where(d => d.Mode != PreventionMode.Off).ToArray();
        if (wanted.Length == 0)
        {
            return problems;
        }

        var group = FanotifyLibC.Init(
            FanotifyLibC.FAN_CLASS_CONTENT | FanotifyLibC.FAN_CLOEXEC | FanotifyLibC.FAN_NONBLOCK,
            (uint)(LibC.O_RDONLY | FanotifyLibC.O_LARGEFILE | LibC.O_CLOEXEC));
        if (group < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            problems.Add(errno switch
            {
                FanotifyLibC.EPERM => "prevention is unavailable: fanotify needs CAP_SYS_ADMIN (run Vigil as root); detection goes on without it",
                FanotifyLibC.EINVAL or FanotifyLibC.ENOSYS =>
                    "prevention is unavailable: this kernel has no fanotify permission events (CONFIG_FANOTIFY_ACCESS_PERMISSIONS); detection goes on without it",
                _ => $"prevention is unavailable: fanotify_init failed ({LibC.Describe(errno)}); detection goes on without it",
            });
            return problems;
        }

        var mounts = MountTable.Load();
        var allowed = new HashSet<string>(_options.FileSystems, StringComparer.Ordinal);
        var marked = new List<string>();
        foreach (var directory in wanted)
        {
            var type = mounts.FileSystemOf(directory.Path);
            if (!allowed.Contains(type) || PreventionOptions.NeverMarked.Contains(type))
            {
                problems.Add($"prevention skips {directory.Path}: its filesystem type is {(type.Length == 0 ? "unknown" : type)}, "
                    + $"not one of <filesystems> ({string.Join(", ", _options.FileSystems)})");
                continue;
            }

            var mask = FanotifyLibC.FAN_OPEN_PERM | FanotifyLibC.FAN_OPEN_EXEC_PERM;
            var rc = FanotifyLibC.Mark(group, FanotifyLibC.FAN_MARK_ADD | FanotifyLibC.FAN_MARK_MOUNT, mask, LibC.AT_FDCWD, directory.Path);
            var errno = rc < 0 ? Marshal.GetLastPInvokeError() : 0;
            if (rc < 0 && errno == FanotifyLibC.EINVAL)
            {
                // Kernels before 5.0 have no FAN_OPEN_EXEC_PERM: executions are still opens.
                rc = FanotifyLibC.Mark(group, FanotifyLibC.FAN_MARK_ADD | FanotifyLibC.FAN_MARK_MOUNT, FanotifyLibC.FAN_OPEN_PERM, LibC.AT_FDCWD, directory.Path);
                errno = rc < 0 ? Marshal.GetLastPInvokeError() : 0;
            }

            if (rc < 0)
            {
                problems.Add($"prevention skips {directory.Path}: fanotify_mark failed ({LibC.Describe(errno)})");
                continue;
            }

            marked.Add(directory.Path);
        }

        if (marked.Count == 0)
        {
            FanotifyLibC.Close(group);
            problems.Add("prevention is unavailable: no directory could be marked; detection goes on without it");
            return problems;
        }

        Marked = marked;
        _group = group;
        StartThread("vigil-fanotify-read", ReadLoop);
        StartThread("vigil-fanotify-deadline", DeadlineLoop);
        for (var i = 0; i < Math.Max(1, _options.Workers); i++)
        {
            StartThread($"vigil-fanotify-work-{i}", WorkLoop);
        }

        return problems;
    }

    public void Dispose()
    {
        Shutdown();
        if (Interlocked.Exchange(ref _isDisposed, 1) == 0)
        {
            _stop.Dispose();
        }
    }

    /// <summary>
    /// Stops every thread, allows everything still waiting and closes the group (which would allow it too). Runs once,
    /// from Dispose or from a thread that ended; bounded: threads still inside a verdict provider are not waited for
    /// past <see cref="ShutdownJoinMilliseconds"/>, as their events are already answered.
    /// </summary>
    private void Shutdown()
    {
        lock (_shutdownGate)
        {
            if (_isShutDown)
            {
                return;
            }

            _isShutDown = true;
            _stop.Cancel();
            lock (_deadlineGate)
            {
                Monitor.PulseAll(_deadlineGate);
            }

            // Released at once, before waiting for any thread.
            AllowWaiting();
            var until = Environment.TickCount64 + ShutdownJoinMilliseconds;
            foreach (var thread in _threads)
            {
                var left = until - Environment.TickCount64;
                if (thread != Thread.CurrentThread && left > 0)
                {
                    thread.Join((int)left);
                }
            }

            // What the reader dispatched meanwhile.
            AllowWaiting();
            while (_work.TryTake(out var queued))
            {
                Close(queued);
            }

            var group = _group;
            _group = -1;
            if (group >= 0)
            {
                FanotifyLibC.Close(group);
            }

            // The deadline alerts already queued are delivered (each reads /proc off the watcher's thread; bounded).
            SpinWait.SpinUntil(() => Volatile.Read(ref _alertsInFlight) == 0, TimeSpan.FromSeconds(2));

            // What the last second counted (overloads, suppressed deadline alerts) is still reported.
            Flush();
        }
    }

    private void AllowWaiting()
    {
        lock (_deadlineGate)
        {
            while (_deadlines.TryDequeue(out var pending))
            {
                TryAnswer(pending, allow: true);
            }
        }
    }

    private void StartThread(string name, Action body)
    {
        var thread = new Thread(() =>
        {
            Exception? failure = null;
            try
            {
                body();
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            if (!_stop.IsCancellationRequested)
            {
                // No thread of the guard ends before a stop: without it events would wait for ever (the reader) or
                // until their deadline (the others). Fail open, and say so.
                FailOpen(name, failure);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        _threads.Add(thread);
        thread.Start();
    }

    private void FailOpen(string thread, Exception? failure)
    {
        if (Interlocked.Exchange(ref _isStopped, 1) != 0)
        {
            return;
        }

        var reason = failure is null ? $"its thread {thread} ended" : $"its thread {thread} failed ({failure.GetType().Name}: {failure.Message})";
        Shutdown();
        var detail = $"{reason}; every waiting access was allowed and nothing is checked on access any more; detection goes on";
        Log.Stopped(_logger, detail);
        Raise(new PreventionAlert(PreventionAlertKind.Stopped, "allow") { Detail = detail });
    }

    private unsafe void ReadLoop()
    {
        var buffer = new byte[ReadBufferSize];
        var events = new List<FanotifyEvent>(64);
        var poll = new FanotifyLibC.PollFd { Fd = _group, Events = FanotifyLibC.POLLIN };
        while (!_stop.IsCancellationRequested)
        {
            var ready = FanotifyLibC.Poll(&poll, 1, PollMilliseconds);
            if (ready <= 0)
            {
                continue;
            }

            nint length;
            fixed (byte* pointer = buffer)
            {
                length = FanotifyLibC.Read(_group, pointer, (nuint)buffer.Length);
            }

            if (length <= 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (length < 0 && errno is not (LibC.EAGAIN or LibC.EINTR))
                {
                    Log.ReadFailed(_logger, LibC.Describe(errno));
                }

                continue;
            }

            events.Clear();
            FanotifyEvent.Parse(buffer.AsSpan(0, (int)length), events, out var error);
            if (error is not null)
            {
                Log.MalformedRecord(_logger, error);
            }

            foreach (var fanotifyEvent in events)
            {
                Dispatch(fanotifyEvent);
            }
        }
    }

    private void Dispatch(FanotifyEvent fanotifyEvent)
    {
        if (fanotifyEvent.Fd == FanotifyLibC.FAN_NOFD)
        {
            if (fanotifyEvent.IsOverflow)
            {
                // The kernel's queue overflowed: it dropped (and so allowed) the accesses it could not queue.
                Interlocked.Increment(ref _overloaded);
            }

            return;
        }

        Interlocked.Increment(ref _events);
        if (!fanotifyEvent.IsPermission)
        {
            FanotifyLibC.Close(fanotifyEvent.Fd);
            return;
        }

        if (_excluded.Contains(fanotifyEvent.Pid))
        {
            Interlocked.Increment(ref _excludedCount);
            RespondAndClose(fanotifyEvent.Fd, allow: true);
            return;
        }

        var path = FanotifyLibC.TryReadLink($"/proc/self/fd/{fanotifyEvent.Fd}") ?? "";
        Fault?.Invoke("dispatch", path);
        var mode = ModeFor(path);
        if (mode == PreventionMode.Off)
        {
            RespondAndClose(fanotifyEvent.Fd, allow: true);
            return;
        }

        var pending = new Pending(fanotifyEvent, path, mode, _time.GetTimestamp() + _deadlineTicks);
        lock (_deadlineGate)
        {
            _deadlines.Enqueue(pending);
            if (_deadlines.Count == 1)
            {
                Monitor.Pulse(_deadlineGate);
            }
        }

        if (!_work.TryAdd(pending))
        {
            Interlocked.Increment(ref _overloaded);
            Close(pending);
        }
    }

    private PreventionMode ModeFor(string path)
    {
        foreach (var directory in _directories)
        {
            if (directory.Contains(path))
            {
                return directory.Mode;
            }
        }

        return PreventionMode.Off;
    }

    private void DeadlineLoop()
    {
        var nextFlush = _time.GetTimestamp() + _time.TimestampFrequency;
        while (!_stop.IsCancellationRequested)
        {
            Pending? due = null;
            var now = _time.GetTimestamp();
            lock (_deadlineGate)
            {
                var wait = 1000;
                while (_deadlines.TryPeek(out var head))
                {
                    if (head.IsAnswered)
                    {
                        _deadlines.Dequeue();
                        continue;
                    }

                    var left = head.Deadline - now;
                    if (left <= 0)
                    {
                        due = _deadlines.Dequeue();
                    }
                    else
                    {
                        wait = (int)Math.Clamp(Math.Ceiling(left * 1000.0 / _time.TimestampFrequency), 1, 1000);
                    }

                    break;
                }

                if (due is null && !_stop.IsCancellationRequested)
                {
                    Monitor.Wait(_deadlineGate, Math.Min(wait, (int)Math.Max(1, (nextFlush - now) * 1000 / _time.TimestampFrequency)));
                }
            }

            if (due is not null && TryAnswer(due, _options.OnTimeout == PreventionTimeoutPolicy.Allow))
            {
                Interlocked.Increment(ref _deadlineHits);
                if (Interlocked.Increment(ref _deadlineAlertsThisSecond) <= DeadlineAlertsPerSecond)
                {
                    // Off this thread: reading /proc can wait on the process, and this thread must never wait.
                    // Counted, so that a stop right after the answer still delivers the alert (Shutdown waits, bounded).
                    Interlocked.Increment(ref _alertsInFlight);
                    ThreadPool.UnsafeQueueUserWorkItem(
                        pending =>
                        {
                            try
                            {
                                Raise(new PreventionAlert(PreventionAlertKind.Deadline, Decision(_options.OnTimeout == PreventionTimeoutPolicy.Allow))
                                {
                                    IsExec = pending.Event.IsExec,
                                    Path = pending.Path,
                                    Mode = pending.Mode,
                                    Process = ProcessIdentity.Read(pending.Event.Pid),
                                    Detail = $"no decision within {_options.Deadline.TotalMilliseconds:0} ms; on_timeout {Decision(_options.OnTimeout == PreventionTimeoutPolicy.Allow)} applied",
                                });
                            }
                            finally
                            {
                                Interlocked.Decrement(ref _alertsInFlight);
                            }
                        },
                        due,
                        preferLocal: false);
                }
                else
                {
                    Interlocked.Increment(ref _deadlineSuppressed);
                }
            }

            if (_time.GetTimestamp() >= nextFlush)
            {
                nextFlush = _time.GetTimestamp() + _time.TimestampFrequency;
                Flush();
            }
        }
    }

    private void Flush()
    {
        // Clean verdicts can change (a list update, a new lookup): the ignore masks are rebuilt every few minutes.
        if (_time.GetTimestamp() >= _nextForget)
        {
            _nextForget = _time.GetTimestamp() + (long)(ForgetCleanInterval.TotalSeconds * _time.TimestampFrequency);
            ForgetClean();
        }

        Interlocked.Exchange(ref _deadlineAlertsThisSecond, 0);
        Interlocked.Exchange(ref _errorAlertsThisSecond, 0);
        var failed = Interlocked.Exchange(ref _errorsSuppressed, 0);
        if (failed > 0)
        {
            Raise(new PreventionAlert(PreventionAlertKind.Error, Decision(_options.OnTimeout == PreventionTimeoutPolicy.Allow))
            {
                Count = failed,
                Detail = $"{failed} more decisions failed; on_timeout {Decision(_options.OnTimeout == PreventionTimeoutPolicy.Allow)} applied",
            });
        }

        var suppressed = Interlocked.Exchange(ref _deadlineSuppressed, 0);
        if (suppressed > 0)
        {
            Raise(new PreventionAlert(PreventionAlertKind.Deadline, Decision(_options.OnTimeout == PreventionTimeoutPolicy.Allow))
            {
                Count = suppressed,
                Detail = $"{suppressed} more accesses had no decision within {_options.Deadline.TotalMilliseconds:0} ms",
            });
        }

        var overloaded = Interlocked.Read(ref _overloaded);
        var reported = Interlocked.Exchange(ref _overloadReported, overloaded);
        if (overloaded > reported)
        {
            Raise(new PreventionAlert(PreventionAlertKind.Overload, "allow")
            {
                Count = overloaded - reported,
                Detail = $"{overloaded - reported} accesses were allowed unchecked: the prevention queue ({_options.QueueSize}) or the kernel's was full",
            });
        }
    }

    private void WorkLoop()
    {
        using var hasher = new ContentHasher(64 * 1024);
        try
        {
            foreach (var pending in _work.GetConsumingEnumerable(_stop.Token))
            {
                Fault?.Invoke("work", pending.Path);
                try
                {
                    Decide(pending, hasher);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    DecisionFailed(pending, ex);
                }
                finally
                {
                    Close(pending);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // One event whose decision throws is answered as one with no decision by its deadline; the worker goes on.
    private void DecisionFailed(Pending pending, Exception ex)
    {
        var allow = _options.OnTimeout == PreventionTimeoutPolicy.Allow;
        // Before the answer, while the process still waits (as for a malicious verdict).
        var process = ProcessIdentity.Read(pending.Event.Pid);
        if (!TryAnswer(pending, allow))
        {
            return;
        }

        Interlocked.Increment(ref _errors);
        Log.DecisionFailed(_logger, pending.Path, Decision(allow), ex.Message);
        if (Interlocked.Increment(ref _errorAlertsThisSecond) > ErrorAlertsPerSecond)
        {
            Interlocked.Increment(ref _errorsSuppressed);
            return;
        }

        Raise(new PreventionAlert(PreventionAlertKind.Error, Decision(allow))
        {
            IsExec = pending.Event.IsExec,
            Path = pending.Path,
            Mode = pending.Mode,
            Process = process,
            Detail = $"deciding failed ({ex.GetType().Name}: {ex.Message}); on_timeout {Decision(allow)} applied",
        });
    }

    private void Decide(Pending pending, ContentHasher hasher)
    {
        Interlocked.Increment(ref _checked);
        Fault?.Invoke("decide", pending.Path);
        var fd = pending.Event.Fd;
        if (LibC.FStat(fd, out var stat) != 0 || !stat.IsRegularFile || stat.Size > _options.MaxFileSizeBytes)
        {
            return;
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: false);
        var key = new FileKey(stat.Dev, stat.Ino, stat.Size, stat.MTime.Seconds, stat.MTime.Nanoseconds, stat.CTime.Seconds, stat.CTime.Nanoseconds);
        if (!_hashes.TryGetValue(key, out var sha256))
        {
            // Only through the event's descriptor: such reads raise no new event.
            sha256 = hasher.Hash(handle, HashKinds.Sha256).Sha256!;
            if (_hashes.Count >= HashCacheLimit)
            {
                _hashes.Clear();
            }

            _hashes[key] = sha256;
        }

        var verdict = _verdicts.Lookup(sha256);
        if (verdict.Kind == PreventionVerdictKind.Unknown && pending.Event.IsExec && _options.HoldUnknownExec)
        {
            var left = TimeSpan.FromSeconds((double)(pending.Deadline - _time.GetTimestamp()) / _time.TimestampFrequency);
            if (left > TimeSpan.Zero)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(left);
                try
                {
                    verdict = _verdicts.ScanAsync(handle, sha256, timeout.Token).AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    // The deadline answers.
                }
            }
        }

        if (verdict.IsMalicious && IsOwnDescendant(pending.Event.Pid))
        {
            // Vigil's own children (remove-threat, the seed's remove-threat.sh and what it runs) must reach the file
            // to quarantine it. Checked only for a malicious verdict, so clean opens pay nothing for it.
            Interlocked.Increment(ref _excludedCount);
            return;
        }

        var deny = verdict.IsMalicious && pending.Mode == PreventionMode.Block;
        ProcessIdentity? process = verdict.IsMalicious ? ProcessIdentity.Read(pending.Event.Pid) : null;
        // Before the answer: the kernel raises the open that follows an allowed exec only once the exec is answered.
        var isRepeat = verdict.IsMalicious && !deny && IsOpenAfterItsExec(pending);
        if (!TryAnswer(pending, allow: !deny))
        {
            if (verdict.IsMalicious)
            {
                // Too late: the deadline already answered with the policy; say what the decision would have been.
                Raise(Alert(PreventionAlertKind.Deadline, Decision(_options.OnTimeout == PreventionTimeoutPolicy.Allow), pending, sha256, verdict, process)
                    with
                { Detail = $"decided {(deny ? "deny" : "allow")} after the deadline ({_options.Deadline.TotalMilliseconds:0} ms)" });
            }

            return;
        }

        if (verdict.Kind == PreventionVerdictKind.Clean)
        {
            IgnoreUntilModified(fd);
        }

        if (deny)
        {
            Interlocked.Increment(ref _denied);
            Raise(Alert(PreventionAlertKind.Denied, "deny", pending, sha256, verdict, process));
        }
        else if (verdict.IsMalicious)
        {
            Interlocked.Increment(ref _wouldDeny);
            if (!isRepeat)
            {
                Raise(Alert(PreventionAlertKind.WouldDeny, "allow", pending, sha256, verdict, process));
            }
        }
    }

    /// <summary>
    /// Content with a clean verdict needs no event until it changes: an ignore mask on its inode (cleared by the kernel
    /// at the first modification, as FAN_MARK_IGNORED_SURV_MODIFY is not set) lets its opens through without a round
    /// trip. Bounded: past <see cref="MaxIgnoreMarks"/> they are all flushed and the count starts again.
    /// </summary>
    private void IgnoreUntilModified(int fd)
    {
        if (Interlocked.Increment(ref _ignoreMarks) > MaxIgnoreMarks)
        {
            ForgetClean();
        }

        FanotifyLibC.Mark(_group, FanotifyLibC.FAN_MARK_ADD | FanotifyLibC.FAN_MARK_IGNORED_MASK,
            FanotifyLibC.FAN_OPEN_PERM | FanotifyLibC.FAN_OPEN_EXEC_PERM, fd, null);
    }

    /// <summary>Removes every inode mark (the clean contents' ignore masks; the mount marks stay): after verdicts change, all is checked again.</summary>
    public void ForgetClean()
    {
        Interlocked.Exchange(ref _ignoreMarks, 0);
        if (_group >= 0)
        {
            FanotifyLibC.Mark(_group, FanotifyLibC.FAN_MARK_FLUSH, 0, LibC.AT_FDCWD, null);
        }
    }

    // An allowed execve raises FAN_OPEN_EXEC_PERM and then FAN_OPEN_PERM for the same file: one alert says it.
    private bool IsOpenAfterItsExec(Pending pending)
    {
        var key = (pending.Event.Pid, pending.Path);
        var now = _time.GetTimestamp();
        if (pending.Event.IsExec)
        {
            if (_recentExecs.Count >= 1024)
            {
                _recentExecs.Clear();
            }

            _recentExecs[key] = now;
            return false;
        }

        return _recentExecs.TryRemove(key, out var at) && now - at < _time.TimestampFrequency;
    }

    private static bool IsOwnDescendant(int pid)
    {
        var self = Environment.ProcessId;
        for (var depth = 0; depth < 8 && pid > 1; depth++)
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return false;
            }

            // pid (comm) state ppid ...: comm may hold spaces and parentheses, so parse after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !int.TryParse(fields[1], System.Globalization.CultureInfo.InvariantCulture, out var parent))
            {
                return false;
            }

            if (parent == self)
            {
                return true;
            }

            pid = parent;
        }

        return false;
    }

    private static PreventionAlert Alert(PreventionAlertKind kind, string decision, Pending pending, string sha256, PreventionVerdict verdict, ProcessIdentity? process) =>
        new(kind, decision)
        {
            IsExec = pending.Event.IsExec,
            Path = pending.Path,
            Sha256 = sha256,
            Verdict = verdict,
            Mode = pending.Mode,
            Process = process ?? ProcessIdentity.Read(pending.Event.Pid),
        };

    private static string Decision(bool allow) => allow ? "allow" : "deny";

    private void Raise(PreventionAlert alert)
    {
        try
        {
            _alert(alert);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.AlertNotDelivered(_logger, ex.Message);
        }
    }

    private bool TryAnswer(Pending pending, bool allow)
    {
        lock (pending)
        {
            if (pending.IsAnswered)
            {
                return false;
            }

            Respond(pending.Event.Fd, allow);
            pending.IsAnswered = true;
            return true;
        }
    }

    private void Close(Pending pending)
    {
        lock (pending)
        {
            if (!pending.IsAnswered)
            {
                Respond(pending.Event.Fd, allow: true);
                pending.IsAnswered = true;
            }

            if (!pending.IsClosed)
            {
                FanotifyLibC.Close(pending.Event.Fd);
                pending.IsClosed = true;
            }
        }
    }

    private void RespondAndClose(int fd, bool allow)
    {
        Respond(fd, allow);
        FanotifyLibC.Close(fd);
    }

    private unsafe void Respond(int fd, bool allow)
    {
        var response = new FanotifyLibC.Response { Fd = fd, Answer = allow ? FanotifyLibC.FAN_ALLOW : FanotifyLibC.FAN_DENY };
        if (FanotifyLibC.Write(_group, &response, (nuint)sizeof(FanotifyLibC.Response)) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            Log.AnswerFailed(_logger, LibC.Describe(errno));
        }
    }

    private readonly record struct FileKey(ulong Dev, ulong Ino, long Size, long MtimeSeconds, long MtimeNanoseconds, long CtimeSeconds, long CtimeNanoseconds);

    private sealed class Pending(FanotifyEvent fanotifyEvent, string path, PreventionMode mode, long deadline)
    {
        public FanotifyEvent Event { get; } = fanotifyEvent;

        public string Path { get; } = path;

        public PreventionMode Mode { get; } = mode;

        public long Deadline { get; } = deadline;

        public volatile bool IsAnswered;

        public bool IsClosed;
    }
}
