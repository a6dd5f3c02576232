using System.Diagnostics;
using System.Text.Json;
using Vigil.Fim.Fanotify;
using Vigil.Tests.Common;

namespace Vigil.Fim.Tests.Fanotify;

/// <summary>
/// Runs tests/Vigil.Fim.Probe in a private mount namespace: <c>unshare -m --propagation private</c>, a tmpfs mounted
/// over a fresh temp directory there only, and the probe's scenario on it. Only that tmpfs is ever marked; the probe
/// refuses anything else. Returns every JSON line it printed.
/// </summary>
internal sealed class PreventionProbe
{
    private static readonly string s_probe = Path.GetFullPath(Path.Combine(
        AppContext.BaseDirectory, "..", "..", "Vigil.Fim.Probe", new DirectoryInfo(AppContext.BaseDirectory).Name, "Vigil.Fim.Probe.dll"));

    private PreventionProbe(IReadOnlyList<JsonElement> lines, string output)
    {
        Lines = lines;
        Output = output;
    }

    public IReadOnlyList<JsonElement> Lines { get; }

    public string Output { get; }

    public IEnumerable<JsonElement> Alerts => Lines
        .Where(l => l.TryGetProperty("alert", out _))
        .Select(l => l.GetProperty("alert").GetProperty("vigil").GetProperty("prevention"));

    public static async Task<PreventionProbe> RunAsync(string scenario)
    {
        using var directory = new TempDirectory("vigil-prevention");
        var info = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs -o size=64m vigil-probe \"$0\" && exec dotnet \"$1\" run \"$2\" \"$0\"",
            directory.Path, s_probe, scenario,
        })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_EnableDiagnostics"] = "0";
        info.Environment["VIGIL_PROBE_HOST_MNTNS"] = FanotifyLibC.TryReadLink("/proc/self/ns/mnt") ?? "";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"probe {scenario} did not finish in 90 s: {await stdout}{await stderr}");
        }

        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"probe {scenario} exited {process.ExitCode}: {output}");
        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .ToList();
        Assert.DoesNotContain(lines, l => l.TryGetProperty("problem", out _));
        return new PreventionProbe(lines, output);
    }

    public JsonElement Check(string name) =>
        Lines.SingleOrDefault(l => l.TryGetProperty("check", out var c) && c.GetString() == name) is { ValueKind: JsonValueKind.Object } line
            ? line
            : throw new Xunit.Sdk.XunitException($"no check {name} in: {Output}");

    public JsonElement Statistics => Lines.Single(l => l.TryGetProperty("stats", out _)).GetProperty("stats");
}
