using System.Text;
using System.Text.Json;
using Vigil.Core;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.Cli.Tests;

public sealed class ScanCommandTests
{
    private static string EicarText => Encoding.ASCII.GetString(Eicar.Bytes);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Scan_EicarWithoutKey_BuiltinListFindsItExit1()
    {
        await using var h = await IntelCommandHarness.StartWithoutKeyAsync();
        var eicar = h.CreateFile("eicar.com", EicarText);

        var (code, output, error) = await h.RunAsync("scan", "--all", "--no-summary", eicar);

        Assert.Equal(1, code);
        Assert.Equal($"malicious  {eicar}  list builtin: EICAR-Test-File", Lines(output).Single());
        Assert.Equal("", error);
    }

    [Fact]
    public async Task Scan_CleanFileOnVirusTotal_Exit0()
    {
        await using var h = await IntelCommandHarness.StartAsync();
        var path = h.CreateFile("clean.txt", "clean content");
        h.Emulator!.Add(EmulatedFile.For(Encoding.UTF8.GetBytes("clean content"), malicious: 0, undetected: 60));

        var (code, output, _) = await h.RunAsync("scan", "--all", "--no-summary", path);

        Assert.Equal(0, code);
        Assert.Equal($"clean  {path}  virustotal 0/60", Lines(output).Single());
        Assert.Equal(1, h.Emulator.LookupCount);
    }

    [Fact]
    public async Task Scan_MaliciousOnVirusTotal_Exit1AndSecondScanAnsweredFromSharedCache()
    {
        await using var h = await IntelCommandHarness.StartAsync();
        var path = h.CreateFile("bad.bin", "bad content");
        h.Emulator!.Add(EmulatedFile.For(Encoding.UTF8.GetBytes("bad content"), malicious: 5, undetected: 55, label: "trojan.x/y"));

        var first = await h.RunAsync("scan", "--all", "--no-summary", path);
        var second = await h.RunAsync("scan", "--all", "--no-summary", path);

        Assert.Equal(1, first.Code);
        Assert.Equal($"malicious  {path}  virustotal 5/60 trojan.x/y", Lines(first.Output).Single());
        Assert.Equal(1, second.Code);
        Assert.Equal($"malicious  {path}  virustotal 5/60 trojan.x/y (cached)", Lines(second.Output).Single());
        Assert.Equal(1, h.Emulator.LookupCount);
        Assert.True(File.Exists(Path.Combine(h.DataDir, "intel", "intel.db")));
    }

    [Fact]
    public async Task Scan_WithoutKey_AnswersFromAnExistingCacheAndCreatesNoDatabase()
    {
        await using var h = await IntelCommandHarness.StartAsync();
        var path = h.CreateFile("bad.bin", "bad content");
        h.Emulator!.Add(EmulatedFile.For(Encoding.UTF8.GetBytes("bad content"), malicious: 5, undetected: 55, label: "trojan.x/y"));
        Assert.Equal(1, (await h.RunAsync("scan", "--no-summary", path)).Code);

        // The key gone, the cache the keyed scan filled still answers.
        h.WriteConfig("", h.Emulator.BaseUrl.ToString());
        var keyless = await h.RunAsync("scan", "--all", "--no-summary", path);
        Assert.Equal(1, keyless.Code);
        Assert.Equal($"malicious  {path}  virustotal 5/60 trojan.x/y (cached)", Lines(keyless.Output).Single());
        Assert.Equal(1, h.Emulator.LookupCount);

        // No key and no database: nothing is cached, and the scan does not create one.
        await using var fresh = await IntelCommandHarness.StartWithoutKeyAsync();
        var file = fresh.CreateFile("a.txt", "a");
        var (code, output, _) = await fresh.RunAsync("scan", "--all", "--no-summary", file);
        Assert.Equal(0, code);
        Assert.Equal($"unknown  {file}  no list match; VirusTotal not configured (no API key)", Lines(output).Single());
        Assert.False(File.Exists(Path.Combine(fresh.DataDir, "intel", "intel.db")));
    }

    [Fact]
    public async Task Scan_DirectoryTree_ScansEveryFileAndNeverFollowsSymlinks()
    {
        await using var h = await IntelCommandHarness.StartWithoutKeyAsync();
        var outside = h.CreateFile("outside/eicar.com", EicarText);
        var a = h.CreateFile("tree/a.txt", "a");
        var b = h.CreateFile("tree/sub/deeper/b.txt", "b");
        var empty = h.CreateFile("tree/sub/empty", "");
        File.CreateSymbolicLink(Path.Combine(h.Directory, "tree", "link-to-eicar"), outside);
        Directory.CreateSymbolicLink(Path.Combine(h.Directory, "tree", "link-to-dir"), Path.GetDirectoryName(outside)!);

        var (code, output, _) = await h.RunAsync("scan", "--all", "--no-summary", Path.Combine(h.Directory, "tree"));

        Assert.Equal(0, code);
        Assert.Equal(
            [
                $"skipped  {Path.Combine(h.Directory, "tree", "link-to-dir")}  symbolic link to {Path.GetDirectoryName(outside)}, not followed",
                $"skipped  {Path.Combine(h.Directory, "tree", "link-to-eicar")}  symbolic link to {outside}, not followed",
                $"unknown  {a}  no list match; VirusTotal not configured (no API key)",
                $"clean  {empty}  empty",
                $"unknown  {b}  no list match; VirusTotal not configured (no API key)",
            ],
            Lines(output));
    }

    [Fact]
    public async Task Scan_UnreadablePath_ReportedAndTheRestScannedExit4()
    {
        await using var h = await IntelCommandHarness.StartWithoutKeyAsync();
        var missing = Path.Combine(h.Directory, "missing");
        var present = h.CreateFile("present.txt", "x");

        var (code, output, _) = await h.RunAsync("scan", "--all", "--no-summary", missing, present);

        Assert.Equal(4, code);
        Assert.Equal([$"error  {missing}  no such file or directory", $"unknown  {present}  no list match; VirusTotal not configured (no API key)"], Lines(output));
    }

    [Fact]
    public async Task Scan_MaliciousAndUnreadable_MaliciousWinsExit1()
    {
        await using var h = await IntelCommandHarness.StartWithoutKeyAsync();
        var eicar = h.CreateFile("eicar.com", EicarText);

        var (code, _, _) = await h.RunAsync("scan", "--all", "--no-summary", Path.Combine(h.Directory, "missing"), eicar);

        Assert.Equal(1, code);
    }

    [Fact]
    public async Task Scan_Json_OneObjectPerLine()
    {
        await using var h = await IntelCommandHarness.StartAsync();
        var eicar = h.CreateFile("eicar.com", EicarText);
        var bad = h.CreateFile("bad.bin", "bad content");
        h.Emulator!.Add(EmulatedFile.For(Encoding.UTF8.GetBytes("bad content"), malicious: 3, undetected: 57));

        var (code, output, _) = await h.RunAsync("scan", "--all", "--no-summary", "--json", eicar, bad);

        Assert.Equal(1, code);
        var lines = Lines(output);
        Assert.Equal(2, lines.Length);
        using var local = JsonDocument.Parse(lines[0]);
        Assert.Equal("malicious", local.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(eicar, local.RootElement.GetProperty("path").GetString());
        Assert.Equal("builtin", local.RootElement.GetProperty("source").GetString());
        Assert.Equal(Eicar.Sha256, local.RootElement.GetProperty("sha256").GetString());
        using var vt = JsonDocument.Parse(lines[1]);
        Assert.Equal("virustotal", vt.RootElement.GetProperty("source").GetString());
        Assert.Equal(3, vt.RootElement.GetProperty("positives").GetInt32());
        Assert.Equal(60, vt.RootElement.GetProperty("total").GetInt32());
        Assert.False(vt.RootElement.GetProperty("cached").GetBoolean());
        Assert.Equal("virustotal 3/60", vt.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Scan_QuotaSpent_NamesFilesNotLookedUpWithoutWaiting()
    {
        await using var h = await IntelCommandHarness.StartAsync(", \"requests_per_minute\": 1");
        var one = h.CreateFile("one.txt", "one");
        var two = h.CreateFile("two.txt", "two");

        var (code, output, error) = await h.RunAsync("scan", "--all", "--no-summary", one, two);

        Assert.Equal(0, code);
        var lines = Lines(output);
        Assert.Equal($"unknown  {one}  not found on VirusTotal", lines[0]);
        Assert.StartsWith($"unknown  {two}  not looked up: the minute quota is spent until ", lines[1], StringComparison.Ordinal);
        Assert.Contains("1 file(s) not looked up", error, StringComparison.Ordinal);
        Assert.Equal(1, h.Emulator!.LookupCount);
    }

    [Fact]
    public async Task Scan_EmptyFile_CleanWithoutLookup()
    {
        await using var h = await IntelCommandHarness.StartAsync();
        var empty = h.CreateFile("empty", "");

        var (code, output, _) = await h.RunAsync("scan", "--all", "--no-summary", empty);

        Assert.Equal(0, code);
        Assert.Equal($"clean  {empty}  empty", Lines(output).Single());
        Assert.Equal(0, h.Emulator!.LookupCount);
    }

    [Fact]
    public async Task Scan_WithKey_KeyNeverPrinted()
    {
        await using var h = await IntelCommandHarness.StartAsync();
        var path = h.CreateFile("x.txt", "x");

        var (_, output, error) = await h.RunAsync("scan", "--all", "--no-summary", "--json", path);

        Assert.DoesNotContain(IntelCommandHarness.Key, output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_TreeByDefault_PrintsInfectedAndSkippedLinksThenASummaryNotTheCleanFiles()
    {
        await using var h = await IntelCommandHarness.StartWithoutKeyAsync();
        var tree = Path.Combine(h.Directory, "tree");
        for (var i = 0; i < 20; i++)
        {
            h.CreateFile($"tree/sub/file-{i:D2}.txt", $"harmless {i}");
        }

        var eicar = h.CreateFile("tree/sub/eicar.com", EicarText);
        var link = Path.Combine(tree, "link-to-etc");
        File.CreateSymbolicLink(link, "/etc");

        var (code, output, _) = await h.RunAsync("scan", tree);

        Assert.Equal(1, code);
        var lines = Lines(output);
        Assert.Equal($"skipped  {link}  symbolic link to /etc, not followed", lines[0]);
        Assert.Equal($"malicious  {eicar}  list builtin: EICAR-Test-File", lines[1]);
        Assert.Equal("----------- SCAN SUMMARY -----------", lines[2]);
        Assert.Contains("Scanned directories: 2", lines);
        Assert.Contains("Scanned files: 21", lines);
        Assert.Contains("Infected files: 1", lines);
        Assert.Contains("Unknown files: 20 (no hash list knows them; VirusTotal not configured)", lines);
        Assert.Contains("Skipped: 1 (symbolic links, not followed)", lines);
        Assert.Contains("Errors: 0", lines);
        Assert.Matches(@"Time: \d+\.\d{3} sec \(0 m \d+ s\)", output);
        Assert.DoesNotContain(lines, l => l.StartsWith("unknown", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Scan_InfectedOnlyAndNoSummary_PrintsTheInfectedFileAlone()
    {
        await using var h = await IntelCommandHarness.StartWithoutKeyAsync();
        h.CreateFile("tree/a.txt", "harmless");
        File.CreateSymbolicLink(Path.Combine(h.Directory, "tree", "link"), "/etc");
        var eicar = h.CreateFile("tree/eicar.com", EicarText);

        var (code, output, _) = await h.RunAsync("scan", "-i", "--no-summary", Path.Combine(h.Directory, "tree"));

        Assert.Equal(1, code);
        Assert.Equal([$"malicious  {eicar}  list builtin: EICAR-Test-File"], Lines(output));
    }

    [Fact]
    public async Task Scan_ManyFiles_VerdictsComeInWalkOrderWithParallelHashing()
    {
        await using var h = await IntelCommandHarness.StartWithoutKeyAsync();
        var expected = Enumerable.Range(0, 300).Select(i => h.CreateFile($"many/f-{i:D3}.txt", new string('x', i * 97))).ToList();

        var (code, output, _) = await h.RunAsync("scan", "--all", "--no-summary", Path.Combine(h.Directory, "many"));

        Assert.Equal(0, code);
        Assert.Equal(expected, Lines(output).Select(l => l.Split("  ")[1]));
    }

    [Theory]
    [InlineData("md5")]
    [InlineData("sha1")]
    [InlineData("sha256")]
    public async Task Scan_ListWrittenInOneDigest_FindsTheFileByThatDigest(string kind)
    {
        // A scan computes MD5 and SHA-1 only where a list is written in them: each kind alone must still find its file.
        var content = "not EICAR, but listed by " + kind;
        var bytes = Encoding.UTF8.GetBytes(content);
        var digest = kind switch
        {
            "md5" => Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(bytes)),
            "sha1" => Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(bytes)),
            _ => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)),
        };
        var listDir = Directory.CreateTempSubdirectory("vigil-cli-list-").FullName;
        try
        {
            var list = Path.Combine(listDir, $"{kind}.txt");
            File.WriteAllText(list, digest + "\n");
            await using var h = await IntelCommandHarness.StartAsync($$""", "hash_lists": ["{{list}}"]""");
            var listed = h.CreateFile("tree/listed.bin", content);
            h.CreateFile("tree/other.bin", "something else");

            var (code, output, _) = await h.RunAsync("scan", "-i", "--no-summary", Path.Combine(h.Directory, "tree"));

            Assert.Equal(1, code);
            Assert.Equal($"malicious  {listed}  list {kind}.txt", Lines(output).Single());
        }
        finally
        {
            Directory.Delete(listDir, recursive: true);
        }
    }
}
