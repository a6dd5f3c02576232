using System.Text;
using Vigil.Core.Events;
using Vigil.Core.Native;

namespace Vigil.Response.Execd;

/// <summary>
/// Follows <c>active-responses.log</c> the way logcollector does and publishes each new complete line as
/// <c>EventMessage('1', &lt;the file's path&gt;, line)</c>: lines written by any program (the seed's script
/// appends to the file itself). A last line without its newline yet is held back until it is complete; a
/// truncated or replaced file is read again from its start.
/// </summary>
internal sealed class ActiveResponseLogTailer(string path, IEventSink sink, TimeProvider timeProvider, bool startAtEnd = true)
{
    private readonly List<byte> _pending = [];
    private long _offset = -1;
    private ulong _inode;

    public string FilePath => path;

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
                await Console.Error.WriteLineAsync($"vigil: the active-response log {path} could not be read: {ex.GetType().Name}: {ex.Message}; retrying");
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
        using (stream)
        {
            var stat = FileDescriptor.FStat(stream.SafeFileHandle, path);
            if (_offset < 0)
            {
                _offset = startAtEnd ? stat.Size : 0;
                _inode = stat.Ino;
            }
            else if (stat.Ino != _inode || stat.Size < _offset)
            {
                _offset = 0;
                _inode = stat.Ino;
                _pending.Clear();
            }

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
                        _pending.Clear();
                    }
                    else
                    {
                        _pending.Add(buffer[i]);
                    }
                }
            }
        }

        foreach (var line in lines)
        {
            await sink.PublishAsync(new EventMessage(EventMessage.LocalFileQueue, path, line), cancellationToken);
        }

        return lines.Count;
    }
}
