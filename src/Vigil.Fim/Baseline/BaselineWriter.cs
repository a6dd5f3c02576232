using System.Threading.Channels;
using Vigil.Core.Configuration;
using Vigil.Core.Events;
using Vigil.Core.Native;
using Vigil.Fim.Events;
using Vigil.Fim.Scanning;

namespace Vigil.Fim.Baseline;

/// <summary>Something for the baseline writer to apply.</summary>
internal abstract record Change;

/// <summary>A path was looked at (by a scan or a realtime check). <see cref="Attempt"/> counts re-checks after staleness.</summary>
internal sealed record Observed(Inspection Inspection, DirectoryOptions Directory, string Mode, int Attempt = 0) : Change;

/// <summary>A message to queue in order with the events (scan_start/scan_end, notices).</summary>
internal sealed record Notice(EventMessage Message) : Change;

/// <summary>Runs on the writer's thread inside its transaction (end-of-scan deletion check, marking a baseline done).</summary>
internal sealed record WriterAction(Action<BaselineWriter> Apply, TaskCompletionSource? Done = null) : Change;

/// <summary>Asks for a fresh look at a path (its observation was stale); must never block.</summary>
internal delegate void RecheckRequest(string path, DirectoryOptions directory, string mode, int attempt);

/// <summary>
/// The single writer of the baseline: compares each observation with the stored row, updates it and queues the
/// added/modified/deleted event in the same transaction (batches of up to 1,000 changes). Before applying, it looks at
/// the file again: an observation older than the file's current version is not applied but re-checked, so a slow scan
/// result never overwrites a newer realtime one.
/// </summary>
internal sealed class BaselineWriter(
    BaselineStore store,
    ContentChanges contentChanges,
    SyscheckOptions options,
    TimeProvider time,
    Action committed,
    RecheckRequest recheck)
{
    private const int MaxBatch = 1000;

    private readonly Channel<Change> _changes = Channel.CreateBounded<Change>(new BoundedChannelOptions(8192) { SingleReader = true });
    private HashSet<string> _baselined = [];
    private string _dbState = "normal";
    private bool _limitNoticeSent;

    public ChannelWriter<Change> Changes => _changes.Writer;

    public BaselineStore Store => store;

    /// <summary>Events reported since start (for tests and benchmarks).</summary>
    public long EventsQueued { get; private set; }

    public bool IsBaselined(string directory) => _baselined.Contains(directory);

    /// <summary>Whether a new file was left out of the baseline because it holds file_limit entries.</summary>
    public bool IsFileLimitReached => Volatile.Read(ref _limitNoticeSent);

    /// <summary>Entries in the baseline (read from the writer's thread; a progress figure elsewhere).</summary>
    public int EntryCount => store.Count;

    /// <summary>Whether changes wait to be applied.</summary>
    public bool HasPending => _changes.Reader.Count > 0;

    /// <summary>Reads what the store knows before the writer starts (which directories have their first scan done).</summary>
    public void LoadState() => _baselined = store.BaselinedDirectories();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var reader = _changes.Reader;
        var done = new List<TaskCompletionSource>();
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                store.Begin();
                try
                {
                    for (var n = 0; n < MaxBatch && reader.TryRead(out var change); n++)
                    {
                        Apply(change, done);
                    }

                    CheckDatabaseState();
                }
                finally
                {
                    store.Commit();
                }

                committed();
                foreach (var tcs in done)
                {
                    tcs.TrySetResult();
                }

                done.Clear();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public void Enqueue(EventMessage message)
    {
        store.Enqueue(message);
        EventsQueued++;
    }

    public void MarkBaselined(string directory)
    {
        if (_baselined.Add(directory))
        {
            store.MarkBaselined(directory);
        }
    }

    /// <summary>Removes the rows of a path and everything below it, reporting each as deleted.</summary>
    public void ApplyGone(string path, string mode)
    {
        foreach (var entry in store.EntriesAt(path))
        {
            store.Remove(entry.Path);
            contentChanges.Forget(entry.Path);
            var directory = options.DirectoryFor(entry.Path);
            if (directory is not null && IsBaselined(directory.Path))
            {
                Enqueue(FimMessages.FileEvent("deleted", mode, Now(), entry, null, null, null, directory));
            }
        }
    }

    private void Apply(Change change, List<TaskCompletionSource> done)
    {
        switch (change)
        {
            case Observed observed:
                ApplyObserved(observed);
                break;
            case Notice notice:
                Enqueue(notice.Message);
                break;
            case WriterAction action:
                action.Apply(this);
                if (action.Done is not null)
                {
                    done.Add(action.Done);
                }

                break;
        }
    }

    private void ApplyObserved(Observed observed)
    {
        var directory = observed.Directory;
        switch (observed.Inspection)
        {
            case Missing missing:
                ApplyGone(missing.Path, observed.Mode);
                return;
            case NotRecorded notRecorded:
                // A directory now stands where a file was (or the reverse): the file rows are gone.
                if (store.Get(notRecorded.Path) is not null)
                {
                    ApplyGone(notRecorded.Path, observed.Mode);
                }

                return;
            case Inspected inspected:
                var now = FileStatus.TryGet(inspected.Path, directory.FollowSymbolicLink);
                if (now is null)
                {
                    ApplyGone(inspected.Path, observed.Mode);
                    return;
                }

                if (!now.Value.SameVersionAs(inspected.Status) && observed.Attempt < 2)
                {
                    recheck(inspected.Path, directory, observed.Mode, observed.Attempt + 1);
                    return;
                }

                ApplyEntry(inspected, directory, observed.Mode);
                return;
        }
    }

    private void ApplyEntry(Inspected inspected, DirectoryOptions directory, string mode)
    {
        var entry = inspected.Entry;

        // During a directory's first baseline the scan's own observations are silent (they are the baseline), but
        // what realtime sees then is new: it is reported, so a file dropped while the first scan runs is checked too.
        var reporting = IsBaselined(directory.Path) || mode is "realtime" or "whodata";
        if (inspected.ReadError is not null && reporting)
        {
            Enqueue(FimMessages.Unreadable(entry.Path, inspected.ReadError));
        }

        var old = store.Get(entry.Path);
        if (old is null)
        {
            if (options.FileLimit > 0 && store.Count >= options.FileLimit)
            {
                if (!_limitNoticeSent)
                {
                    Volatile.Write(ref _limitNoticeSent, true);
                    Enqueue(FimMessages.FileLimitReached(options.FileLimit, entry.Path));
                }

                // A full baseline still reports what realtime sees appear, so a new file is still checked by the
                // intelligence and removed if it must be; it is not stored (so no later modified/deleted event for it).
                if (mode is "realtime" or "whodata")
                {
                    Enqueue(FimMessages.FileEvent("added", mode, Now(), entry, null, null, null, directory));
                }

                return;
            }

            store.Upsert(entry, isNew: true);
            if (directory.ReportChanges)
            {
                contentChanges.Remember(entry.Path, directory);
            }

            if (reporting)
            {
                Enqueue(FimMessages.FileEvent("added", mode, Now(), entry, null, null, null, directory));
            }

            return;
        }

        if (old == entry)
        {
            return;
        }

        store.Upsert(entry, isNew: false);
        var changed = entry.ChangedFrom(old);
        if (changed.Count == 0 || !reporting)
        {
            if (directory.ReportChanges && !reporting)
            {
                contentChanges.Remember(entry.Path, directory);
            }

            return;
        }

        string? diff = null;
        if (directory.ReportChanges && changed.Any(c => c is "size" or "md5" or "sha1" or "sha256" or "mtime"))
        {
            diff = contentChanges.Changes(entry.Path, directory);
        }

        Enqueue(FimMessages.FileEvent("modified", mode, Now(), entry, old, changed, diff, directory));
    }

    /// <summary>Reports the fill state of file_entry when it changes (rules 230–234), as Wazuh does after its scans.</summary>
    private void CheckDatabaseState()
    {
        var limit = options.FileLimit;
        if (limit <= 0)
        {
            return;
        }

        var count = store.Count;
        var state = count >= limit ? "full" : count >= limit * 0.9 ? "90_percentage" : count >= limit * 0.8 ? "80_percentage" : "normal";
        if (state != _dbState)
        {
            _dbState = state;
            Enqueue(FimMessages.DatabaseState(state, limit, count));
            if (state != "full")
            {
                Volatile.Write(ref _limitNoticeSent, false);
            }
        }
    }

    private long Now() => time.GetUtcNow().ToUnixTimeSeconds();
}
