using System.Runtime.ExceptionServices;
using Vigil.Core.Hashing;
using Vigil.Intel.Files;

namespace Vigil.Intel.Scanning;

/// <summary>
/// Hashes the files of a walk on a few long-lived threads while the walk goes on, and gives the results back in the
/// walk's order. The walk adds paths to a bounded ring; each worker claims a short run of them at a time (one lock per
/// run, not a task and a semaphore per file), hashes them with its own buffer and digest contexts, and marks them
/// done; the reader takes them from the head, waiting only when the head is not done yet.
/// One thread adds and takes (the walk's); it is not safe to add or take from several threads at once.
/// </summary>
internal sealed class OrderedHashing : IDisposable
{
    private const int Capacity = 512; // a power of two
    private const int MaxRun = 8;
    private readonly Slot[] _slots = new Slot[Capacity];
    private readonly object _gate = new();
    private readonly ManualResetEventSlim _headDone = new(initialState: false, spinCount: 50);
    private readonly HashKinds _kinds;
    private readonly int _workers;
    private long _added;
    private long _claimed;
    private long _taken;
    private int _idle;
    private int _started;
    private bool _isClosed;

    public OrderedHashing(HashKinds kinds, int workers)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        _kinds = kinds;
        _workers = workers;
        for (var i = 0; i < Capacity; i++)
        {
            _slots[i] = new Slot();
        }
    }

    /// <summary>Items added and not taken yet.</summary>
    public int Count => (int)(_added - _taken);

    /// <summary>True when no more can be added before one is taken.</summary>
    public bool IsFull => Count >= Capacity;

    /// <summary>Adds a file to hash, or (with <paramref name="given"/>) a result to give back as it is, in its place.</summary>
    public void Add(string path, ScanResult? given)
    {
        if (IsFull)
        {
            throw new InvalidOperationException("the ring is full: take one first");
        }

        var slot = _slots[_added & (Capacity - 1)];
        slot.Path = path;
        slot.Given = given;
        slot.Digest = null;
        slot.Error = null;
        slot.Failure = null;
        slot.IsDone = given is not null;
        lock (_gate)
        {
            _added++;
            if (_idle > 0)
            {
                Monitor.Pulse(_gate);
            }
            else if (_started < _workers && _added - _claimed > _started * MaxRun)
            {
                // Threads start as there is work for them: a scan of a few files starts one.
                _started++;
                new Thread(Work) { IsBackground = true, Name = "vigil-hash" }.Start();
            }
        }
    }

    /// <summary>The head: its path and either the result given for it or its digest (null and the reason when unreadable).</summary>
    public (string Path, ScanResult? Given, ContentHashes? Digest, string? Error) Take(CancellationToken cancellationToken)
    {
        if (Count == 0)
        {
            throw new InvalidOperationException("nothing to take");
        }

        var slot = _slots[_taken & (Capacity - 1)];
        while (!slot.IsDone)
        {
            _headDone.Reset();
            if (slot.IsDone)
            {
                break;
            }

            _headDone.Wait(cancellationToken);
        }

        var taken = (slot.Path!, slot.Given, slot.Digest, slot.Error);
        var failure = slot.Failure;
        slot.Path = null;
        slot.Given = null;
        Volatile.Write(ref _taken, _taken + 1);
        failure?.Throw();
        return taken;
    }

    /// <summary>Stops the threads: what they have claimed is finished and dropped, nothing more is claimed.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _isClosed = true;
            Monitor.PulseAll(_gate);
        }
    }

    private void Work()
    {
        while (true)
        {
            long from, to;
            lock (_gate)
            {
                while (_claimed == _added && !_isClosed)
                {
                    _idle++;
                    Monitor.Wait(_gate);
                    _idle--;
                }

                if (_isClosed)
                {
                    return;
                }

                // A short run, shared out so that every thread has some: the head is never behind a long run.
                var waiting = _added - _claimed;
                var run = Math.Clamp(waiting / _workers, 1, MaxRun);
                from = _claimed;
                to = from + run;
                _claimed = to;
            }

            for (var i = from; i < to; i++)
            {
                var slot = _slots[i & (Capacity - 1)];
                if (!slot.IsDone)
                {
                    try
                    {
                        (slot.Digest, slot.Error) = RegularFile.TryHash(slot.Path!, _kinds);
                    }
                    catch (Exception ex)
                    {
                        // Not an expected failure (those come back as text): the reader throws it in the walk's place.
                        slot.Failure = ExceptionDispatchInfo.Capture(ex);
                    }

                    slot.IsDone = true;
                }

                if (i == Volatile.Read(ref _taken))
                {
                    _headDone.Set();
                }
            }
        }
    }

    private sealed class Slot
    {
        private volatile bool _isDone;

        public string? Path { get; set; }

        public ScanResult? Given { get; set; }

        public ContentHashes? Digest { get; set; }

        public string? Error { get; set; }

        public ExceptionDispatchInfo? Failure { get; set; }

        public bool IsDone
        {
            get => _isDone;
            set => _isDone = value;
        }
    }
}
