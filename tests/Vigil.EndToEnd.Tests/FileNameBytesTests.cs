using System.Diagnostics;
using System.Text.Json;
using Vigil.Core;
using Vigil.Core.Native;
using Vigil.Tests.Common;

namespace Vigil.EndToEnd.Tests;

/// <summary>
/// File names are bytes: a malicious file whose name is not valid UTF-8, holds a newline, or is 255 bytes long is
/// detected, quarantined and restored by `vigil run`, and shown escaped (<c>\xff</c>) in its alerts; `vigil scan` finds it.
/// </summary>
public sealed class FileNameBytesTests
{
    private static readonly TimeSpan s_flow = TimeSpan.FromSeconds(90);

    // The shell writes the name: .NET can only name files whose names are valid UTF-8.
    private static async Task ShellAsync(string script)
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", script]) { RedirectStandardError = true })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{script}: {error}");
    }

    private static async Task<(int Code, string Output)> RunToEndAsync(params string[] arguments)
    {
        await using var process = VigilProcess.Start(arguments);
        var clock = Stopwatch.StartNew();
        while (!process.HasExited && clock.Elapsed < s_flow)
        {
            await Task.Delay(50);
        }

        Assert.True(process.HasExited, process.Output);
        await Task.Delay(100);
        return (process.ExitCode, process.Output);
    }

    [Fact]
    public async Task Run_EicarNamedWithInvalidUtf8_IsDetectedQuarantinedAndRestoredUnderItsOwnBytes()
    {
        // Before: no alert and no log line; `vigil scan DIR` skipped it.
        using var fixture = new RunFixture();
        using var temp = new TempDirectory("vigil-names");
        var source = temp.Combine("eicar.bin");
        await File.WriteAllBytesAsync(source, Eicar.Bytes);
        await using var vigil = fixture.Start();
        await vigil.WaitForOutputAsync("vigil: ready", s_flow);

        var longName = new string('n', 251) + ".com"; // 255 bytes, the longest component Linux allows
        await ShellAsync($"cp '{source}' \"{fixture.Watched}/$(printf 'bad\\377.com')\" && cp '{source}' \"{fixture.Watched}/$(printf 'new\\nline.com')\" && cp '{source}' '{fixture.Watched}/{longName}'");
        string[] shown = [$"{fixture.Watched}/bad\\xff.com", $"{fixture.Watched}/new\nline.com", $"{fixture.Watched}/{longName}"];
        await WaitAsync(() => fixture.Alerts().Count(a => RuleOf(a) == "200303") == 3, vigil);

        var alerts = fixture.Alerts();
        foreach (var path in shown)
        {
            Assert.Contains(alerts, a => RuleOf(a) == "100201" && a.GetProperty("syscheck").GetProperty("path").GetString() == path);
            Assert.Contains(alerts, a => RuleOf(a) == "200100" && a.GetProperty("data").GetProperty("vigil").GetProperty("source").GetProperty("file").GetString() == path);
            Assert.Null(FileStatus.TryGet(path, followLinks: false)); // removed
        }

        var (_, list) = await RunToEndAsync("quarantine", "list", "--json", "--home", fixture.Home, "--data-dir", fixture.Data);
        var records = JsonDocument.Parse(list).RootElement.EnumerateArray().ToList();
        var bad = records.Single(r => r.GetProperty("original_path").GetString() == shown[0]);
        var (code, restored) = await RunToEndAsync("quarantine", "restore", $"{bad.GetProperty("id").GetInt64()}", "--home", fixture.Home, "--data-dir", fixture.Data);
        Assert.True(code == 0, restored);

        // Back under its own bytes (the shell checks the raw name), with its content.
        await ShellAsync($"cmp '{source}' \"{fixture.Watched}/$(printf 'bad\\377.com')\"");

        var (scanCode, scan) = await RunToEndAsync("scan", fixture.Watched, "--home", fixture.Home, "--data-dir", fixture.Data);
        Assert.Equal(1, scanCode);
        Assert.Contains($"malicious  {shown[0]}", scan, StringComparison.Ordinal);

        var (missingCode, missing) = await RunToEndAsync("scan", Path.Combine(fixture.Watched, "no-such-file"), "--home", fixture.Home, "--data-dir", fixture.Data);
        Assert.True(missingCode == 4, missing);
    }

    private static string RuleOf(JsonElement alert) => alert.GetProperty("rule").GetProperty("id").GetString()!;

    private static async Task WaitAsync(Func<bool> done, VigilProcess vigil)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            Assert.True(clock.Elapsed < s_flow, vigil.Output);
            await Task.Delay(100);
        }
    }
}
