using System.Text;
using Vigil.Core;
using Vigil.Intel.Files;
using Vigil.Intel.Yara;
using Vigil.Tests.Common;

namespace Vigil.Intel.Tests.Yara;

/// <summary>The YARA engine over the real libyara (Debian's libyara9).</summary>
public sealed class YaraEngineTests : IDisposable
{
    // Rules and samples live apart: a rule file holding a marker would itself match.
    private readonly TempDirectory _rules = new("vigil-yara-rules");
    private readonly TempDirectory _files = new("vigil-yara-files");

    internal static string EicarRule => $$"""
        rule Vigil_Test_Eicar : test
        {
            strings:
                $a = "{{Encoding.ASCII.GetString(Eicar.Bytes)[28..62]}}"
            condition:
                $a
        }
        """;

    internal const string WebshellRule = """
        rule Vigil_Test_Webshell : webshell php
        {
            strings:
                $eval = /eval\s*\(\s*base64_decode\s*\(/
                $post = "$_POST["
            condition:
                all of them
        }
        """;

    internal static string WebshellSample => "<?php " + "ev" + "al(base64_decode($_POST['c'])); ?>\n";

    [Fact]
    public async Task ScanAsync_EicarAndWebshell_MatchByDescriptor()
    {
        _rules.WriteFile("eicar.yar", EicarRule);
        _rules.WriteFile("sub/webshell.yara", WebshellRule);
        using var engine = new YaraEngine(new YaraOptions { Rules = [_rules.Path] });
        Assert.Empty(engine.Reload().Errors);
        var eicar = Write("eicar.com", Eicar.Bytes);
        var shell = Write("upload/shell.php", Encoding.ASCII.GetBytes(WebshellSample));
        var clean = Write("clean.txt", Encoding.ASCII.GetBytes("nothing to see here\n"));

        Assert.Equal(["Vigil_Test_Eicar"], (await ScanAsync(engine, eicar)).Matches.Select(m => m.Rule));
        var webshell = Assert.Single((await ScanAsync(engine, shell)).Matches);
        Assert.Equal("Vigil_Test_Webshell", webshell.Rule);
        Assert.Equal(["webshell", "php"], webshell.Tags);
        Assert.Equal("default", webshell.Namespace);
        var none = await ScanAsync(engine, clean);
        Assert.False(none.IsMatch);
        Assert.Null(none.Error);
        Assert.Equal(64, engine.Version!.Length);
        Assert.Equal(2, engine.Files.Count);
    }

    [Fact]
    public async Task Reload_BrokenEdit_ReportsFileLineAndKeepsRules()
    {
        var path = _rules.WriteFile("webshell.yar", WebshellRule);
        using var engine = new YaraEngine(new YaraOptions { Rules = [path] });
        Assert.Empty(engine.Reload().Errors);
        var version = engine.Version;
        var shell = Write("shell.php", Encoding.ASCII.GetBytes(WebshellSample));

        File.WriteAllText(path, "rule Broken\n{\n    condition:\n        $missing\n}\n");
        var reload = engine.Reload();

        Assert.True(reload.IsChanged);
        var error = Assert.Single(reload.Errors);
        Assert.Equal(path, error.File);
        Assert.InRange(error.Line, 4, 5);
        Assert.Contains("$missing", error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{path}:{error.Line}: error:", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(version, engine.Version);
        Assert.Equal("Vigil_Test_Webshell", Assert.Single((await ScanAsync(engine, shell)).Matches).Rule);

        // Unchanged files: no second compile, no second report.
        Assert.False(engine.Reload().IsChanged);
    }

    [Fact]
    public async Task Reload_RuleEdit_NewRulesInForce()
    {
        var path = _rules.WriteFile("rules.yar", "rule Never { condition: false }\n");
        using var engine = new YaraEngine(new YaraOptions { Rules = [path] });
        engine.Reload();
        var shell = Write("shell.php", Encoding.ASCII.GetBytes(WebshellSample));
        Assert.False((await ScanAsync(engine, shell)).IsMatch);
        var before = engine.Version;

        File.WriteAllText(path, WebshellRule);
        var reload = engine.Reload();

        Assert.True(reload.IsChanged);
        Assert.Empty(reload.Errors);
        Assert.NotEqual(before, engine.Version);
        Assert.True((await ScanAsync(engine, shell)).IsMatch);
    }

    [Fact]
    public void Compile_SeveralBrokenFiles_NamesEach()
    {
        var a = _rules.WriteFile("a.yar", "rule A { condition: $x }\n");
        var b = _rules.WriteFile("b.yar", "rule B {\n condition:\n  nonsense(\n}\n");
        _rules.WriteFile("c.yar", "rule C { condition: true }\n");

        var result = YaraCompiler.Compile([_rules.Path]);
        using var rules = result.Rules;

        Assert.Null(result.Rules);
        Assert.Contains(result.Diagnostics, d => d.IsError && d.File == a && d.Line == 1);
        Assert.Contains(result.Diagnostics, d => d.IsError && d.File == b && d.Line > 1);
    }

    [Fact]
    public async Task ScanAsync_OverSizeLimit_NotScannedAndSaysSo()
    {
        _rules.WriteFile("eicar.yar", EicarRule);
        using var engine = new YaraEngine(new YaraOptions { Rules = [_rules.Path], MaxFileSize = 1024 });
        engine.Reload();
        var big = Write("big.bin", [.. Eicar.Bytes, .. new byte[2048]]);

        var result = await ScanAsync(engine, big);

        Assert.False(result.IsMatch);
        Assert.Contains("over the YARA size limit of 1024 bytes", result.Skipped, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScanAsync_ManyAtOnce_AllMatch()
    {
        _rules.WriteFile("webshell.yar", WebshellRule);
        using var engine = new YaraEngine(new YaraOptions { Rules = [_rules.Path], MaxConcurrentScans = 8 });
        engine.Reload();
        var shell = Write("shell.php", Encoding.ASCII.GetBytes(WebshellSample));

        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => ScanAsync(engine, shell)));

        Assert.All(results, r => Assert.True(r.IsMatch));
    }

    [Fact]
    public async Task ScanAsync_EmptyFile_NoMatchNoError()
    {
        _rules.WriteFile("webshell.yar", WebshellRule);
        using var engine = new YaraEngine(new YaraOptions { Rules = [_rules.Path] });
        engine.Reload();

        var result = await ScanAsync(engine, Write("empty", []));

        Assert.False(result.IsMatch);
        Assert.Null(result.Error);
    }

    [Fact]
    public void Open_SymlinkToMatchingFile_NeverOpened()
    {
        var target = Write("shell.php", Encoding.ASCII.GetBytes(WebshellSample));
        var link = _files.Combine("link.php");
        File.CreateSymbolicLink(link, target);

        using var stream = RegularFile.TryOpen(link, out var error);

        Assert.Null(stream);
        Assert.Equal("symbolic link (not followed)", error);
    }

    private string Write(string name, byte[] content)
    {
        var path = _files.Combine(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static async Task<YaraScanResult> ScanAsync(YaraEngine engine, string path)
    {
        await using var stream = RegularFile.TryOpen(path, out var error) ?? throw new InvalidOperationException(error);
        return await engine.ScanAsync(stream.SafeFileHandle, CancellationToken.None);
    }

    public void Dispose()
    {
        _rules.Dispose();
        _files.Dispose();
    }
}
