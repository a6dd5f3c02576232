using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vigil.Core.Events;
using Vigil.Core.Native;

namespace Vigil.Response.Execd;

/// <summary>
/// Follows <c>active-responses.log</c> the way logcollector does and publishes each new complete line as
/// <c>EventMessage('1', &lt;the file's path&gt;, line)</c>: lines written by any program (the seed's script
/// appends to the file itself). A last line without its newline yet is held back until it is complete; a
/// truncated or replaced file is read again from its start.
/// </summary>
internal sealed partial class ActiveResponseLogTailer(string path, IEventSink sink, TimeProvider timeProvider, bool startAtEnd = true)
{
    /// <summary>Where read failures are logged (the host's logger).</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>
    /// Where reading goes on after a restart (inode and offset), kept by the host beside its durable queue: with it,
    /// lines written while the host was down are read at start instead of skipped, and each line is published with the
    /// key <c>arlog:INODE:OFFSET</c>, so a line read again after a crash is taken once.
    /// </summary>
    public ITailPosition? Position { get; init; }

    private readonly List<byte> _pending = [];
    private long _offset = -1;
    private ulong _inode;

    public string FilePath => path;

    /// <summary>
    /// Fixes where reading starts, durably, when no position was kept yet: the log's end now (its start once it
    /// appears, when it does not exist). A host calls this before anything of its own can write the log (responses
    /// still queued from before a crash run first thing at start): a line they write before the first poll is then
    /// read, not skipped by a start at the end.
    /// </summary>
    public void Anchor()
    {
        if (Position is null || Position.Load() is not null)
        {
            return;
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
            var stat = FileDescriptor.FStat(stream.SafeFileHandle, path);
            Position.Save(stat.Ino, startAtEnd ? stat.Size : 0);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            Position.Save(0, 0); // no inode is 0: the file, once created, is read from its start
        }
    }

    /// <summary>Polls until cancelled, every <paramref name="interval"/>; a last poll runs on the way out is not attempted.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await PollOnceAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The log unreadable for a moment (permissions, a rotation mid-read): said, then tried again; no
                // exception ends the tailer.
                Log.ReadFailed(Logger, path, ex.GetType().Name, ex.Message);
            }

            try
            {
                await Task.Delay(interval, timeProvider, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Reads whatever was appended since the last call and publishes the complete lines; returns how many.</summary>
    public async Task<int> PollOnceAsync(CancellationToken cancellationToken)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // No file yet: every line of the file once it appears is new, so read it from its start then.
            if (_offset < 0)
            {
                _offset = 0;
                _inode = 0;
            }

            return 0;
        }

        var lines = new List<string>();
        var keys = new List<string>();
        long lineStart;
        using (stream)
        {
            var stat = FileDescriptor.FStat(stream.SafeFileHandle, path);
            if (_offset < 0)
            {
                _offset = startAtEnd ? stat.Size : 0;
                _inode = stat.Ino;
                if (Position?.Load() is { } saved)
                {
                    // The same file: on from where it was left; another (replaced while the host was down): all of it.
                    _offset = saved.Inode == stat.Ino && saved.Offset <= stat.Size ? saved.Offset : 0;
                }
            }
            else if (stat.Ino != _inode || stat.Size < _offset)
            {
                _offset = 0;
                _inode = stat.Ino;
                _pending.Clear();
            }

            lineStart = _offset - _pending.Count;
            stream.Position = _offset;
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                _offset += read;
                for (var i = 0; i < read; i++)
                {
                    if (buffer[i] == (byte)'\n')
                    {
                        lines.Add(Encoding.UTF8.GetString([.. _pending]));
                        keys.Add($"arlog:{_inode}:{lineStart}");
                        lineStart += _pending.Count + 1;
                        _pending.Clear();
                    }
                    else
                    {
                        _pending.Add(buffer[i]);
                    }
                }
            }
        }

        if (lines.Count > 0)
        {
            await sink.PublishBatchAsync([.. lines.Select(l => new EventMessage(EventMessage.LocalFileQueue, path, l))], keys, cancellationToken);
            Position?.Save(_inode, lineStart);
        }

        return lines.Count;
    }
}

/// <summary>How far a tailed file was read, kept durably by the host.</summary>
internal interface ITailPosition
{
    public (ulong Inode, long Offset)? Load();

    public void Save(ulong inode, long offset);
}
