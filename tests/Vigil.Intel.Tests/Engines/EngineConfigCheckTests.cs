using System.Net.Sockets;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Intel.Engines;
using Vigil.Intel.Tests.Yara;
using Vigil.Tests.Common;

namespace Vigil.Intel.Tests.Engines;

/// <summary>`vigil config check` on engine blocks: each problem once, at the line of ossec.conf (or rule file, or clamd.conf) that holds it.</summary>
public sealed class EngineConfigCheckTests : IDisposable
{
    private readonly TempDirectory _temp = new("vigil-engine-check");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Check_GoodYaraBlock_NothingToSay()
    {
        var rules = _temp.WriteFile("rules/web.yar", YaraEngineTests.WebshellRule);

        var found = Check(Yara($$"""{"rules": "{{rules}}", "max_file_size": "10M", "retro_scan": false, "retro_scan_rate": 5}"""));

        Assert.Empty(found);
    }

    [Fact]
    public void Check_UnknownKey_ErrorAtItsLineNamingTheAllowedKeys()
    {
        var rules = _temp.WriteFile("rules/web.yar", YaraEngineTests.WebshellRule);

        var found = Check(Yara($$"""
            {
                    "rules": "{{rules}}",
                    "max_file_sise": "10M"
                  }
            """));

        var error = Assert.Single(found);
        Assert.Equal((DiagnosticSeverity.Error, 6), (error.Severity, error.Line));
        Assert.EndsWith("ossec.conf", error.File, StringComparison.Ordinal);
        Assert.Contains("'max_file_sise' is not a setting of custom-vigil-yara; allowed: rules, max_file_size,", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"max_file_size\": true", "max_file_size must be a size in bytes")]
    [InlineData("\"timeout_seconds\": \"60\"", "timeout_seconds must be a positive integer")]
    [InlineData("\"max_concurrent_scans\": 0", "max_concurrent_scans must be a positive integer")]
    [InlineData("\"retro_scan\": \"yes\"", "retro_scan must be true or false")]
    [InlineData("\"retro_scan_rate\": 1.5", "retro_scan_rate must be a positive integer")]
    public void Check_WrongType_ErrorAtTheKeysLine(string setting, string message)
    {
        var rules = _temp.WriteFile("rules/web.yar", YaraEngineTests.WebshellRule);

        var found = Check(Yara($"{{\"rules\": \"{rules}\",\n  {setting}}}"));

        var error = Assert.Single(found);
        Assert.Equal((DiagnosticSeverity.Error, 5), (error.Severity, error.Line));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_InvalidJson_ErrorAtTheLineWhereTheJsonBreaks()
    {
        var result = Load(Yara("{\"rules\": \"/r\",\n  \"max_file_size\" 10}"));

        var error = Assert.Single(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(5, error.Line);
        Assert.StartsWith("<options> must be a JSON object", error.Message, StringComparison.Ordinal);
        Assert.Empty(EngineConfigCheck.Check(result.Config)); // the options are not used, so no second message
    }

    [Fact]
    public void Check_MissingRules_ErrorsForTheMissingPathAndForNoRulesAtAll()
    {
        var missing = Check(Yara($$"""{"rules": ["{{_temp.Combine("nothing-here")}}"]}"""));
        Directory.CreateDirectory(_temp.Combine("empty"));
        var empty = Check(Yara($$"""{"rules": "{{_temp.Combine("empty")}}"}"""));
        var absent = Check(Yara("""{"max_file_size": 10}"""));

        Assert.Contains("no such rule file or directory", Assert.Single(missing).Message, StringComparison.Ordinal);
        Assert.Contains("no rule files (*.yar, *.yara)", Assert.Single(empty).Message, StringComparison.Ordinal);
        Assert.Contains("rules is required", Assert.Single(absent).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_BrokenRuleFile_ErrorAtTheRuleFilesLine()
    {
        var bad = _temp.WriteFile("rules/broken.yar", "rule B\n{\n  condition:\n    $none\n}\n");

        var found = Check(Yara($$"""{"rules": "{{_temp.Combine("rules")}}"}"""));

        var error = Assert.Single(found, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(bad, error.File);
        Assert.InRange(error.Line, 4, 5);
        Assert.Contains("$none", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_RulesInsideAWatchedDirectory_Warning()
    {
        var rules = _temp.WriteFile("watched/rules/web.yar", YaraEngineTests.WebshellRule);

        var found = Check(Yara($$"""{"rules": "{{rules}}"}""", $"<syscheck><directories realtime=\"yes\">{_temp.Combine("watched")}</directories></syscheck>"));

        var warning = Assert.Single(found);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Contains("inside the monitored directory", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ClamdConfMissingOrBad_ErrorAtTheKeyOrAtTheClamdConfLine()
    {
        var bad = _temp.WriteFile("clamd.conf", "# clamd\nLocalSocket /run/x.ctl\nStreamMaxLength lots\n");

        var missing = Check(ClamAv($$"""{"clamd_conf": "{{_temp.Combine("none.conf")}}"}"""));
        var broken = Check(ClamAv($$"""{"clamd_conf": "{{bad}}"}"""));

        var error = Assert.Single(missing);
        Assert.Equal((DiagnosticSeverity.Error, 4), (error.Severity, error.Line));
        Assert.Contains("cannot read clamd's configuration", error.Message, StringComparison.Ordinal);
        var line = Assert.Single(broken);
        Assert.Equal((bad, 3), (line.File, line.Line));
        Assert.Contains("StreamMaxLength must be a size", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ClamdConfListeningNowhere_Error()
    {
        var conf = _temp.WriteFile("clamd.conf", "DatabaseDirectory /var/lib/clamav\n");

        var error = Assert.Single(Check(ClamAv($$"""{"clamd_conf": "{{conf}}"}""")));

        Assert.Contains("clamd listens nowhere", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_BadSockets_ErrorsForWhatCannotBeASocketAndAWarningForOneNotThereYet()
    {
        var file = _temp.WriteFile("not-a-socket", "x");

        var conf = _temp.WriteFile("clamd.conf", "LocalSocket run/clamd.ctl\n");
        var relative = Check(ClamAv($$"""{"clamd_conf": "{{conf}}"}"""));
        var regular = Check(ClamAv($$"""{"socket": "{{file}}"}"""));
        var tooLong = Check(ClamAv($$"""{"socket": "/{{new string('s', 120)}}"}"""));
        var absent = Check(ClamAv($$"""{"socket": "{{_temp.Combine("clamd.ctl")}}"}"""));
        var badTcp = Check(ClamAv("""{"tcp": "localhost"}"""));

        Assert.Contains("must be an absolute path", Assert.Single(relative).Message, StringComparison.Ordinal);
        Assert.Contains("is a regular file, not a socket", Assert.Single(regular).Message, StringComparison.Ordinal);
        Assert.Contains("longer than a unix socket address can hold", Assert.Single(tooLong).Message, StringComparison.Ordinal);
        var warning = Assert.Single(absent);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Contains("nothing is there now", warning.Message, StringComparison.Ordinal);
        Assert.Contains("tcp must be host:port, got 'localhost'", Assert.Single(badTcp).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ListeningSocketAndGoodClamdConf_NothingToSay()
    {
        var path = _temp.Combine("clamd.ctl");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        var conf = _temp.WriteFile("clamd.conf", $"LocalSocket {path}\nStreamMaxLength 25M\n");

        Assert.Empty(Check(ClamAv($$"""{"socket": "{{path}}", "timeout_seconds": 5}""")));
        Assert.Empty(Check(ClamAv($$"""{"clamd_conf": "{{conf}}", "stream_max_length": "10M"}""")));
    }

    [Theory]
    [InlineData("custom-vigil-yara", "\"rules\": \"/r\",\n  \"reload_seconds\": \"soon\"", "reload_seconds", 5)]
    [InlineData("custom-vigil-yara", "\"rules\": \"/r\", \"max_file_size\": \"huge\"", "max_file_size", 4)]
    [InlineData("custom-vigil-clamav", "\"socket\": \"/s\",\n\n  \"timeout_seconds\": -1", "timeout_seconds", 6)]
    [InlineData("custom-vigil-yara", "\"rules\": \"/r\",\n  \"retro_scan\": \"yes\"", "retro_scan", 5)]
    [InlineData("custom-vigil-clamav", "\"socket\": \"/s\",\n  \"retro_scan_rate\": 0", "retro_scan_rate", 5)]
    public void Unreadable_BadKey_StartUpNamesTheLineConfigCheckNames(string engine, string options, string key, int line)
    {
        var result = Load(Block(engine, "{" + options + "}", ""));
        var path = _temp.Combine("home", "config", "ossec.conf");

        var error = Assert.Single(EngineConfigCheck.Check(result.Config, compileRules: false), d => d.Severity == DiagnosticSeverity.Error && d.Message.Contains(key, StringComparison.Ordinal));
        var problem = EngineSettings.Unreadable(result.Config);

        Assert.Equal((path, line), (error.File, error.Line));
        Assert.StartsWith($"{path}:{line}: <integration> {engine} <options>: {key}", problem, StringComparison.Ordinal);
    }

    private static string Yara(string options, string extra = "") => Block("custom-vigil-yara", options, extra);

    private static string ClamAv(string options) => Block("custom-vigil-clamav", options, "");

    /// <summary>The block's &lt;options&gt; text starts on line 4 of the file.</summary>
    private static string Block(string name, string options, string extra) =>
        $"<ossec_config>\n  <integration>\n    <name>{name}</name>\n    <options>{options}</options>\n  </integration>\n  {extra}\n</ossec_config>\n";

    private ConfigLoadResult Load(string xml)
    {
        var path = _temp.WriteFile("home/config/ossec.conf", xml);
        return OssecConfigLoader.Load(path, new ConfigLoadOptions { Home = _temp.Combine("home") });
    }

    private IReadOnlyList<Diagnostic> Check(string xml)
    {
        var result = Load(xml);
        Assert.DoesNotContain(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        return EngineConfigCheck.Check(result.Config);
    }
}
