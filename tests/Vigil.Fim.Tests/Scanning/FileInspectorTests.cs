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

        var opening = Task.Run(() => DefaultFileOpener.Instance.Open(path, followSymbolicLink: false));
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

    // Adversarial: a path swapped for a link to another file at every open, and back to a regular file after it, so
    // that each statx sees a regular file and each open the link. The other file's hashes (a secret's, say) must never
    // be recorded under the path: the open does not follow the link, and what was opened is checked to be what the
    // statx saw.
    [Theory(Timeout = 30_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Inspect_PathSwappedForALinkAtEveryOpen_NeverRecordsTheLinkedFilesHash(bool follow)
    {
        using var temp = new TempDir();
        var secret = temp.Combine("secret");
        await File.WriteAllTextAsync(secret, "the secret's content");
        var path = temp.Combine("payload.txt");
        await File.WriteAllTextAsync(path, "regular content");
        var inspector = new FileInspector(1 << 30, new SwapForLinkOpener(path, secret, restore: true));

        var inspection = await Task.Run(() => inspector.Inspect(path, new DirectoryOptions { Path = temp.Path, FollowSymbolicLink = follow }));

        var secretSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(secret)));
        var inspected = Assert.IsType<Inspected>(inspection);
        Assert.NotEqual(secretSha256, inspected.Entry.Sha256);
        Assert.Null(inspected.Entry.Sha256);
        Assert.NotNull(inspected.ReadError);
        Assert.NotEqual(new FileInfo(secret).Length, inspected.Entry.Size);
    }

    // Adversarial: a file swapped for a link to /dev/zero between its statx and its open, in a directory that follows
    // links. Read through the link, the "file" never ends: the hashing thread would read zeros for ever.
    [Fact(Timeout = 30_000)]
    public async Task Inspect_FileSwappedForALinkToDevZero_DoesNotReadIt()
    {
        using var temp = new TempDir();
        var path = temp.Combine("payload.bin");
        await File.WriteAllTextAsync(path, "regular content");
        var inspector = new FileInspector(1L << 40, new SwapForLinkOpener(path, "/dev/zero", restore: false));

        var inspection = await Task.Run(() => inspector.Inspect(path, new DirectoryOptions { Path = temp.Path, FollowSymbolicLink = true }))
            .WaitAsync(TimeSpan.FromSeconds(10));

        var notRecorded = Assert.IsType<NotRecorded>(inspection);
        Assert.False(notRecorded.Status!.Value.IsRegularFile);
    }

    [Fact]
    public void DefaultOpener_OfALink_FollowsItOnlyWhenTold()
    {
        using var temp = new TempDir();
        var target = temp.Combine("target");
        File.WriteAllText(target, "content");
        var link = temp.Combine("link");
        File.CreateSymbolicLink(link, target);

        var refused = Assert.ThrowsAny<IOException>(() => DefaultFileOpener.Instance.Open(link, followSymbolicLink: false));
        Assert.Contains("symbolic links", refused.Message, StringComparison.Ordinal);
        using var followed = DefaultFileOpener.Instance.Open(link, followSymbolicLink: true);
        Assert.False(followed.IsInvalid);
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    // Puts a symbolic link to `linked` in place of the file and opens the path as the inspector does: at every open,
    // with a new regular file put back after each (`restore`), or at the first open only.
    private sealed class SwapForLinkOpener(string target, string linked, bool restore) : IFileOpener
    {
        private bool _swapped;

        public SafeFileHandle Open(string path, bool followSymbolicLink)
        {
            if (path != target || (_swapped && !restore))
            {
                return DefaultFileOpener.Instance.Open(path, followSymbolicLink);
            }

            _swapped = true;
            File.Delete(path);
            File.CreateSymbolicLink(path, linked);
            try
            {
                return DefaultFileOpener.Instance.Open(path, followSymbolicLink);
            }
            finally
            {
                if (restore)
                {
                    File.Delete(path);
                    File.WriteAllText(path, "regular content");
                }
            }
        }
    }

    // Replaces the file with a FIFO of the same name (at its first open), then opens it as the inspector does.
    private sealed class SwapForFifoOpener(string target) : IFileOpener
    {
        private bool _swapped;

        public SafeFileHandle Open(string path, bool followSymbolicLink)
        {
            if (path == target && !_swapped)
            {
                _swapped = true;
                File.Delete(path);
                MakeFifo(path);
            }

            return DefaultFileOpener.Instance.Open(path, followSymbolicLink);
        }
    }
}
