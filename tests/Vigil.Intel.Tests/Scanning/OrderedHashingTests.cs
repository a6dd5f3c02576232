using System.Security.Cryptography;
using System.Text;
using Vigil.Core.Hashing;
using Vigil.Intel.Scanning;
using Vigil.Tests.Common;

namespace Vigil.Intel.Tests.Scanning;

/// <summary>The scan's hashing threads: every file's own digest, in the order added, past the ring's size.</summary>
public sealed class OrderedHashingTests : IDisposable
{
    private readonly TempDirectory _files = new("vigil-ordered-hashing");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Gives_each_files_digest_in_the_order_added(int workers)
    {
        // More files than the ring holds, with given results, a missing file and a FIFO among them.
        var expected = new List<(string Path, string? Sha256, string? Given)>();
        for (var i = 0; i < 1500; i++)
        {
            var content = $"file {i} " + new string('x', i % 300);
            var path = _files.WriteFile($"d{i / 500}/f{i:D4}", content);
            expected.Add((path, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content))), null));
            if (i % 97 == 0)
            {
                expected.Add((path + ".given", null, $"given {i}"));
            }
        }

        expected.Insert(700, (_files.Combine("missing"), null, null));
        var fifo = _files.Combine("fifo");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        expected.Insert(1200, (fifo, null, null));

        using var hashing = new OrderedHashing(HashKinds.Sha256 | HashKinds.Md5, workers);
        var taken = new List<(string Path, ScanResult? Given, ContentHashes? Digest, string? Error)>();
        foreach (var (path, _, given) in expected)
        {
            while (hashing.IsFull)
            {
                taken.Add(hashing.Take(CancellationToken.None));
            }

            hashing.Add(path, given is null ? null : new ScanResult(path, ScanVerdict.Skipped, given));
        }

        while (hashing.Count > 0)
        {
            taken.Add(hashing.Take(CancellationToken.None));
        }

        Assert.Equal(expected.Select(e => e.Path), taken.Select(t => t.Path));
        for (var i = 0; i < expected.Count; i++)
        {
            var (path, sha256, given) = expected[i];
            var (_, givenResult, digest, error) = taken[i];
            if (given is not null)
            {
                Assert.Equal(given, givenResult?.Detail);
                Assert.Null(digest);
            }
            else if (path.EndsWith("missing", StringComparison.Ordinal))
            {
                Assert.Null(digest);
                Assert.Equal("no such file or directory", error, ignoreCase: true);
            }
            else if (path == fifo)
            {
                Assert.Null(digest);
                Assert.Equal("not a regular file", error);
            }
            else
            {
                Assert.Equal(sha256, digest?.Sha256);
                Assert.NotNull(digest?.Md5);
                Assert.Null(digest?.Sha1);
            }
        }
    }

    [Fact]
    public void Take_needs_something_added_and_gives_one_file_alone()
    {
        using var hashing = new OrderedHashing(HashKinds.Sha256, workers: 1);
        Assert.Throws<InvalidOperationException>(() => hashing.Take(CancellationToken.None));
        hashing.Add(_files.WriteFile("one", "one"), given: null);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("one"u8)), hashing.Take(CancellationToken.None).Digest?.Sha256);
        Assert.Equal(0, hashing.Count);
    }

    public void Dispose() => _files.Dispose();
}
