namespace Vigil.Fim.Tests.Baseline;

/// <summary>The baseline as a retro-scan reads it: non-empty files (a symbolic link is listed too: the reader opens without following it), newest first, resumable after a cursor.</summary>
public sealed class BaselineCatalogTests
{
    [Fact(Timeout = 60_000)]
    public async Task NewestFirst_AfterFirstScan_PagesRegularFilesByMtimeDescending()
    {
        await using var fim = await FimHarness.StartAsync(before: root =>
        {
            Write(root, "old.txt", 2020);
            Write(root, "mid.txt", 2022);
            Write(root, "new.txt", 2024);
            Write(root, "sub/also-mid.txt", 2022);
            File.WriteAllText(Path.Combine(root, "empty.txt"), "");
        });
        await fim.IdleAsync();
        var catalog = fim.Service.Baseline;

        Assert.True(catalog.IsReady);
        Assert.Equal(4, catalog.Count());
        var first = catalog.NewestFirst(null, 3);
        var rest = catalog.NewestFirst(first[^1], 3);

        string[] expected = ["new.txt", "mid.txt", "sub/also-mid.txt", "old.txt"];
        Assert.Equal(expected.Select(p => Path.Combine(fim.Root, p)), first.Concat(rest).Select(f => f.Path));
        Assert.Single(rest);
        Assert.Empty(catalog.NewestFirst(rest[0], 3));
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), first[0].Mtime);
    }

    [Fact]
    public void NewestFirst_NoDatabaseYet_IsEmpty()
    {
        using var temp = new TempDir();
        var catalog = new Fim.Baseline.BaselineCatalog(temp.Combine("fim.db"), () => false);

        Assert.Equal(0, catalog.Count());
        Assert.Empty(catalog.NewestFirst(null, 10));
        Assert.False(catalog.IsReady);
    }

    private static void Write(string root, string name, int year)
    {
        var path = Path.Combine(root, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, name + "\n");
        File.SetLastWriteTimeUtc(path, new DateTime(year, 1, 1, 0, 0, 0, DateTimeKind.Utc));
    }
}
