using Vigil.Tests.Common;

namespace Vigil.Cli.Tests;

/// <summary>`vigil yara check` and `vigil scan` with the detection engines (real libyara, a real clamd started here).</summary>
public sealed class EngineCommandTests
{
    private const string WebshellRule = """
        rule Vigil_Cli_Webshell
        {
            strings:
                $a = /eval\s*\(\s*base64_decode\s*\(/
            condition:
                $a
        }
        """;

    private static readonly string s_webshell = "<?php " + "ev" + "al(base64_decode($x)); ?>";

    [Fact]
    public async Task YaraCheck_GoodAndBrokenRules_Exit0AndExit1WithFileLine()
    {
        using var temp = new TempDirectory("vigil-cli-yara");
        var good = temp.WriteFile("good/web.yar", WebshellRule);
        var bad = temp.WriteFile("bad/broken.yar", "rule B\n{\n  condition:\n    $none\n}\n");

        var ok = await RunAsync("yara", "check", Path.GetDirectoryName(good)!);
        var broken = await RunAsync("yara", "check", good, bad);

        Assert.Equal(0, ok.Code);
        Assert.Contains("1 rule file(s) compile", ok.Output, StringComparison.Ordinal);
        Assert.Equal(1, broken.Code);
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(bad)}:[45]: error: .*\\$none", broken.Error.Split('\n')[0]);
    }

    [Fact]
    public async Task Scan_WithYaraAndClamAv_SaysWhichEngineFoundWhat()
    {
        using var temp = new TempDirectory("vigil-cli-engines");
        await using var clamd = await ClamdProcess.StartAsync(withEicar: false);
        var rules = temp.WriteFile("rules/web.yar", WebshellRule);
        temp.WriteFile("home/config/ossec.conf", $$"""
            <ossec_config>
              <integration>
                <name>custom-vigil-yara</name>
                <options>{"rules": "{{rules}}"}</options>
              </integration>
              <integration>
                <name>custom-vigil-clamav</name>
                <options>{"socket": "{{clamd.SocketPath}}"}</options>
              </integration>
            </ossec_config>
            """);
        var shell = temp.WriteFile("files/shell.php", s_webshell);
        var clam = temp.WriteFile("files/cmd.php", "<?php " + ClamdProcess.WebshellMarker + "1]); ?>");
        temp.WriteFile("files/clean.txt", "clean");

        var (code, output, error) = await RunAsync("scan", "--no-summary", "--home", temp.Combine("home"), "--data-dir", temp.Combine("data"), temp.Combine("files"));

        Assert.Equal(1, code);
        Assert.Equal("", error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([$"malicious  {clam}  clamav {ClamdProcess.WebshellSignature}", $"malicious  {shell}  yara Vigil_Cli_Webshell"], lines);
    }

    [Fact]
    public async Task ConfigCheck_EngineBlockWithAnUnknownKey_Exit1WithFileLine()
    {
        using var temp = new TempDirectory("vigil-cli-engine-check");
        var rules = temp.WriteFile("rules/web.yar", WebshellRule);
        var config = temp.WriteFile("ossec.conf", $$"""
            <ossec_config>
              <integration>
                <name>custom-vigil-yara</name>
                <options>{"rules": "{{rules}}",
                  "timeout": 5}</options>
              </integration>
            </ossec_config>
            """);

        var (code, output, _) = await RunAsync("config", "check", "--config", config);

        Assert.Equal(1, code);
        Assert.Contains($"{config}:5: error: <integration> custom-vigil-yara <options>: 'timeout' is not a setting of custom-vigil-yara", output, StringComparison.Ordinal);
        Assert.Contains("1 error(s)", output, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await VigilCommandLine.Build().Parse(args).InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
