using System.Diagnostics;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Tests.Common;

namespace Vigil.Analysis.Tests.Rules;

/// <summary>A rule_include that is not a regular file, or not rule XML, is one clear error, found at once.</summary>
public sealed class RuleFileSourceTests : IDisposable
{
    private readonly TempDirectory _temp = new("vigil-rule-sources");

    private static DiagnosticBag Load(string file)
    {
        var diagnostics = new DiagnosticBag();
        var config = new OssecConfig { Home = RepositoryPaths.Root, Ruleset = new RulesetOptions { IsDefault = false } };
        RuleSet.Load(config, [file], Vigil.Analysis.Decoding.DecoderSet.BuiltIn, diagnostics);
        return diagnostics;
    }

    [Fact]
    public void Load_DevZero_IsRefusedAtOnceAsNotARegularFile()
    {
        // Before: read until OutOfMemoryException (23 s).
        var clock = Stopwatch.StartNew();
        var diagnostics = Load("/dev/zero");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        var error = Assert.Single(diagnostics.Items);
        Assert.Equal("/dev/zero: error: not a regular file (a character device): only a regular file is read", error.ToString());
    }

    [Fact]
    public void Load_Directory_IsRefusedAsNotARegularFile()
    {
        var error = Assert.Single(Load(_temp.Path).Items);
        Assert.Contains("not a regular file (a directory)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EtcPasswd_IsAnErrorAtItsFirstLine()
    {
        // Before: loaded with 0 errors and 0 rules.
        var file = _temp.WriteFile("passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n");

        var error = Assert.Single(Load(file).Items);

        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Equal(1, error.Line);
        Assert.StartsWith($"{file}:1: error: text outside any element ('root:x:0:0:root:/root:/bin/bash daemon:x…'): this is not a rule file", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RealEtcPasswd_IsAnError()
    {
        Assert.Contains(Load("/etc/passwd").Items, d => d.Severity == DiagnosticSeverity.Error && d.File == "/etc/passwd" && d.Line == 1);
    }

    [Fact]
    public void LoadConfig_OssecConfOnDevZero_IsRefusedAtOnce()
    {
        var result = OssecConfigLoader.Load("/dev/zero");

        var error = Assert.Single(result.Diagnostics);
        Assert.Contains("not a regular file (a character device)", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
