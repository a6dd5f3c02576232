using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Vigil.Core;
using Vigil.Response.Execd;
using Vigil.Response.Quarantine;
using Vigil.Response.RemoveThreat;
using Vigil.Tests.Common;

namespace Vigil.Response.Tests.RemoveThreat;

/// <summary>The two builds of remove-threat the suite runs: the managed program in process, the native program as a child.</summary>
public enum RemoveThreatBuild
{
    /// <summary><see cref="RemoveThreatProgram"/> in this process, as Vigil's execd runs it.</summary>
    InProcess,

    /// <summary>The NativeAOT <c>vigil-remove-threat</c> (eng/package.sh) as a child process, as a Wazuh execd runs it.</summary>
    Native,
}

/// <summary>Runs remove-threat over the stdin protocol, as execd would, in either build.</summary>
internal static class RemoveThreatHarness
{
    public const string Program = "active-response/bin/remove-threat";

    public static string Message(string path, string? md5 = Eicar.Md5, string? sha1 = Eicar.Sha1, string? sha256 = null, string[]? extraArgs = null, long? size = null)
    {
        var source = new JsonObject { ["file"] = path, ["alert_id"] = "1700000000.1", ["md5"] = md5, ["sha1"] = sha1 };
        if (size is not null)
        {
            source["size"] = size;
        }

        if (sha256 is not null)
        {
            source["sha256"] = sha256;
        }

        var alert = new JsonObject
        {
            ["timestamp"] = "2024-01-01T00:00:00.000+0000",
            ["rule"] = new JsonObject { ["level"] = 12, ["description"] = "VirusTotal: Alert - 5 engines detected this file", ["id"] = "87105" },
            ["agent"] = new JsonObject { ["id"] = "000", ["name"] = "test" },
            ["id"] = "1700000000.1234",
            ["data"] = new JsonObject { ["integration"] = "virustotal", ["virustotal"] = new JsonObject { ["found"] = "1", ["malicious"] = "1", ["source"] = source } },
        };
        var extra = new JsonArray();
        foreach (var arg in extraArgs ?? [])
        {
            extra.Add(arg);
        }

        return new JsonObject
        {
            ["version"] = 1,
            ["origin"] = new JsonObject { ["name"] = "node01", ["module"] = "wazuh-execd" },
            ["command"] = "add",
            ["parameters"] = new JsonObject { ["extra_args"] = extra, ["alert"] = alert, ["program"] = Program },
        }.ToJsonString();
    }

    public static async Task<Run> RunAsync(
        Sandbox sandbox, string message, RemoveThreatOptions? options = null, QuarantineOptions? quarantine = null, string reply = "{\"command\":\"continue\"}",
        RemoveThreatBuild build = RemoveThreatBuild.InProcess)
    {
        options ??= sandbox.DefaultRemoveOptions();
        if (build == RemoveThreatBuild.Native)
        {
            Assert.Null(quarantine); // the native program's vault options are the command's
            return await RunNativeAsync(sandbox, message, options, reply);
        }

        var vault = sandbox.CreateVault(options: quarantine);
        var log = new ActiveResponseLog(sandbox.LogPath, TimeProvider.System);
        var program = new RemoveThreatProgram(sandbox.CreateRemover(options, vault), log, options);
        var output = new StringWriter();
        var exit = await program.RunAsync(new StringReader(message + "\n" + reply + "\n"), output, CancellationToken.None);
        var lines = File.Exists(sandbox.LogPath) ? File.ReadAllLines(sandbox.LogPath) : [];
        return new Run(exit, output.ToString(), lines, vault);
    }

    /// <summary>
    /// The native program with the command-line equivalent of <paramref name="options"/>: --home is the sandbox's home
    /// (so its data directory and AR log are the in-process run's), --allow each allowed directory.
    /// </summary>
    private static async Task<Run> RunNativeAsync(Sandbox sandbox, string message, RemoveThreatOptions options, string reply)
    {
        Assert.Equal(sandbox.DefaultRemoveOptions().ProtectedPaths, options.ProtectedPaths); // the command derives them from --home
        var start = new ProcessStartInfo(await PackageBuild.NativeRemoveThreatAsync())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = sandbox.Root,
        };
        start.ArgumentList.Add("--home");
        start.ArgumentList.Add(sandbox.Home);
        foreach (var allowed in options.AllowedDirectories)
        {
            start.ArgumentList.Add("--allow");
            start.ArgumentList.Add(allowed);
        }

        if (options.AllowHardLinks)
        {
            start.ArgumentList.Add("--allow-hard-links");
        }

        start.ArgumentList.Add("--action");
        start.ArgumentList.Add(options.DefaultAction == QuarantineAction.Delete ? "delete" : "quarantine");
        start.ArgumentList.Add("--max-size");
        start.ArgumentList.Add(options.MaxFileSizeBytes.ToString(CultureInfo.InvariantCulture));
        foreach (var variable in new[] { "VIGIL_HOME", "VIGIL_DATA", "VIGIL_MONITORED" })
        {
            start.Environment.Remove(variable);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(message + "\n" + reply + "\n");
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal("", await stderr);
        var lines = File.Exists(sandbox.LogPath) ? File.ReadAllLines(sandbox.LogPath) : [];
        return new Run(process.ExitCode, await stdout, lines, sandbox.CreateVault());
    }

    internal sealed record Run(int Exit, string Output, string[] LogLines, QuarantineVault Vault)
    {
        /// <summary>The last outcome line of the remover (a quarantine record line may follow it).</summary>
        public string LastLine => LogLines.Last(l => !l.Contains(" active-response/bin/vigil-quarantine: ", StringComparison.Ordinal));

        public IReadOnlyList<QuarantineRecord> Records => Vault.Store.List();
    }
}
