using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using Vigil.Core.Configuration;
using Vigil.Fim.Scanning;

namespace Vigil.Fim.Tests.Scanning;

public sealed class FileInspectorTests
{
    // Adversarial: a FIFO put in place of a file between its statx and its open. A blocking open would hold the hashing
    // thread until some writer opened the FIFO: a few such and realtime monitoring stops.
    [Fact(Timeout = 30_000)]
    public async Task Inspect_FileSwappedForAFifoBeforeItsOpen_DoesNotBlock_AndRecordsNoFile()
    {
        using var temp = new TempDir();
        var path = temp.Combine("payload.bin");
        await File.WriteAllTextAsync(path, "regular content");
        var inspector = new FileInspector(1 << 30, new SwapForFifoOpener(path));

        var inspecting = Task.Run(() => inspector.Inspect(path, new DirectoryOptions { Path = temp.Path }));
        try
        {
            var inspection = await inspecting.WaitAsync(TimeSpan.FromSeconds(10));
            var notRecorded = Assert.IsType<NotRecorded>(inspection);
            Assert.False(notRecorded.Status!.Value.IsRegularFile);
        }
        finally
        {
            if (!inspecting.IsCompleted)
            {
                // Unblocks a reader stuck in open(2), so that a failing run does not keep the thread.
                using var writer = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
            }
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task DefaultOpener_OfAFifoWithNoWriter_ReturnsAtOnce()
    {
        using var temp = new TempDir();
        var path = temp.Combine("fifo");
        MakeFifo(path);

        var opening = Task.Run(() => DefaultFileOpener.Instance.Open(path));
        try
        {
            using var handle = await opening.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.False(handle.IsInvalid);
        }
        finally
        {
            if (!opening.IsCompleted)
            {
                using var writer = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
            }
        }
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    // Replaces the file with a FIFO of the same name (at its first open), then opens it as the inspector does.
    private sealed class SwapForFifoOpener(string target) : IFileOpener
    {
        private bool _swapped;

        public SafeFileHandle Open(string path)
        {
            if (path == target && !_swapped)
            {
                _swapped = true;
                File.Delete(path);
                MakeFifo(path);
            }

            return DefaultFileOpener.Instance.Open(path);
        }
    }
}
