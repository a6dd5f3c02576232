using System.Text.Json.Nodes;
using Vigil.Core;
using Vigil.Response.Execd;
using Vigil.Response.Quarantine;
using Vigil.Response.RemoveThreat;

namespace Vigil.Response.Tests.RemoveThreat;

/// <summary>Runs <see cref="RemoveThreatProgram"/> in process over the stdin protocol, as execd would.</summary>
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

    public static async Task<Run> RunAsync(Sandbox sandbox, string message, RemoveThreatOptions? options = null, QuarantineOptions? quarantine = null, string reply = "{\"command\":\"continue\"}")
    {
        options ??= sandbox.DefaultRemoveOptions();
        var vault = sandbox.CreateVault(options: quarantine);
        var log = new ActiveResponseLog(sandbox.LogPath, TimeProvider.System);
        var program = new RemoveThreatProgram(sandbox.CreateRemover(options, vault), log, options);
        var output = new StringWriter();
        var exit = await program.RunAsync(new StringReader(message + "\n" + reply + "\n"), output, CancellationToken.None);
        var lines = File.Exists(sandbox.LogPath) ? File.ReadAllLines(sandbox.LogPath) : [];
        return new Run(exit, output.ToString(), lines, vault);
    }

    internal sealed record Run(int Exit, string Output, string[] LogLines, QuarantineVault Vault)
    {
        /// <summary>The last outcome line of the remover (a quarantine record line may follow it).</summary>
        public string LastLine => LogLines.Last(l => !l.Contains(" active-response/bin/vigil-quarantine: ", StringComparison.Ordinal));

        public IReadOnlyList<QuarantineRecord> Records => Vault.Store.List();
    }
}
