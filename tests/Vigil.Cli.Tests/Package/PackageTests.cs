using System.Diagnostics;
using Vigil.Core;
using Vigil.Response.RemoveThreat;
using Vigil.Tests.Common;

namespace Vigil.Cli.Tests.Package;

/// <summary>
/// The .deb eng/package.sh builds: its contents and metadata, lintian, and a real <c>dpkg -i</c>, use, remove and
/// purge in a throwaway root (a mount namespace with overlays over /etc, /opt, /usr and /var; nothing reaches the host).
/// </summary>
public sealed class PackageTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact(Timeout = 1_800_000)]
    public async Task Deb_ContentsAndMetadata_AreTheDocumentedLayout()
    {
        var deb = await PackageBuild.DebAsync();
        var info = Run("dpkg-deb", "--info", deb);
        Assert.Contains(" Package: vigil\n", info);
        Assert.Contains($" Version: {VigilVersion.Current}\n", info);
        Assert.Contains(" Architecture: amd64\n", info);
        Assert.Contains(" Depends: libc6", info);
        Assert.DoesNotContain("dotnet", info); // self-contained: no .NET on the host

        var contents = Run("dpkg-deb", "--contents", deb).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(f => string.Join(' ', f[5..]), f => (Mode: f[0], Owner: f[1]));
        foreach (var path in new[]
        {
            "./opt/vigil/bin/vigil", "./opt/vigil/bin/vigil.dll", "./opt/vigil/bin/libcoreclr.so", "./opt/vigil/ruleset/rules/0015-ossec_rules.xml",
            "./opt/vigil/active-response/bin/remove-threat", "./opt/vigil/active-response/bin/remove-threat.sh", "./opt/vigil/share/wazuh/vigil-remove-threat",
            "./usr/bin/vigil", "./lib/systemd/system/vigil-agent.service", "./lib/systemd/system/vigil-manager.service",
            "./usr/share/doc/vigil/copyright", "./usr/share/man/man1/vigil.1.gz",
        })
        {
            Assert.True(contents.ContainsKey(path), $"{path} is not in the package");
            Assert.Equal("root/root", contents[path].Owner);
        }

        Assert.Equal("-rwxr-xr-x", contents["./opt/vigil/active-response/bin/remove-threat"].Mode);
        Assert.Equal("-rw-r-----", contents["./etc/vigil/ossec.conf"].Mode);
        Assert.Equal("-rw-r--r--", contents["./etc/vigil/rules/local_rules.xml"].Mode);
        Assert.Contains("./opt/vigil/config -> /etc/vigil", contents.Keys);
        Assert.Contains("./opt/vigil/logs -> /var/log/vigil", contents.Keys);

        var control = _temp.Combine("control");
        Run("dpkg-deb", "--control", deb, control);
        Assert.Equal(["/etc/vigil/ossec.conf", "/etc/vigil/rules/local_rules.xml", "/etc/vigil/decoders/local_decoder.xml"], File.ReadAllLines(Path.Combine(control, "conffiles")));

        // The configuration is the checkout's; the units are deploy/systemd's; the AR program is the native build.
        var tree = _temp.Combine("tree");
        Run("dpkg-deb", "--extract", deb, tree);
        Assert.Equal(File.ReadAllText(RepositoryPaths.Get("config", "ossec.conf")), File.ReadAllText(Path.Combine(tree, "etc", "vigil", "ossec.conf")));
        Assert.Equal(File.ReadAllText(RepositoryPaths.Get("deploy", "systemd", "vigil-agent.service")), File.ReadAllText(Path.Combine(tree, "lib", "systemd", "system", "vigil-agent.service")));
        Assert.Contains("ExecStart=/opt/vigil/bin/vigil agent", File.ReadAllText(Path.Combine(tree, "lib", "systemd", "system", "vigil-agent.service")));
        Assert.True(ShippedRemoveThreat.IsShipped(Path.Combine(tree, "opt", "vigil", "active-response", "bin", "remove-threat"), RemoveThreatFactory.WrapperMarker));
    }

    [Fact(Timeout = 1_800_000)]
    public async Task Deb_Lintian_ReportsNothingBeyondTheJustifiedOverrides()
    {
        var deb = await PackageBuild.DebAsync();
        var (exit, output) = RunWithExit("lintian", "--fail-on", "error,warning", deb);
        Assert.True(exit == 0, $"lintian:\n{output}");
        Assert.DoesNotContain("E: ", output);
        Assert.DoesNotContain("W: ", output);
    }

    [Fact(Timeout = 1_800_000)]
    public async Task Deb_InstallUseRemovePurge_InAThrowawayRoot()
    {
        var deb = await PackageBuild.DebAsync();
        Assert.False(File.Exists("/usr/bin/vigil"), "a vigil is installed on this host; the test would not show what the package does");
        Assert.False(Directory.Exists("/.vigil-quarantine"));
        Directory.CreateDirectory(_temp.Combine("upper"));
        var eicar = _temp.Combine("eicar.com");
        File.WriteAllBytes(eicar, Eicar.Bytes);
        var script = Path.Combine(AppContext.BaseDirectory, "Package", "package-install.sh");

        var (exit, output) = RunWithExit("unshare", "-m", "--propagation", "private", "bash", script, deb, _temp.Path, eicar);
        Assert.True(exit == 0, output);
        var sections = Sections(output);

        var install = sections["install"];
        Assert.Contains("dpkg-i=0", install);
        Assert.Contains("mode 700 root:root /var/lib/vigil", install);
        Assert.Contains("mode 750 root:adm /var/log/vigil", install);
        Assert.Contains("mode 755 root:root /etc/vigil", install);
        Assert.Contains("mode 640 root:root /etc/vigil/ossec.conf", install);
        Assert.Contains("mode 750 root:root /var/ossec/active-response/bin/vigil-remove-threat", install);
        Assert.Contains("mode 755 root:root /usr/bin/vigil", install);
        Assert.Contains("state-logs -> /var/log/vigil", install);
        Assert.Contains($"version={VigilVersion.Current}", install);
        Assert.Contains("config-check=0", install);
        Assert.Contains("scan=1", install); // exit 1: malware found
        Assert.Contains("/var/tmp/vigil-package-test/scan-me.com", install);
        Assert.Contains("wazuh-remove-threat=0", install);
        Assert.Contains("wazuh-file=gone", install);
        Assert.Contains("wazuh-log-success=1", install);
        Assert.Contains("wazuh-quarantined=1", install);

        Assert.Contains("state-remove-threat=0", install);
        Assert.Contains("state-quarantined=1", install);

        // Remove: the program, units, command, Wazuh drop-in, state and logs go; the conffiles stay, and the
        // quarantine (vault and records) because it holds a file, said on stderr.
        var removed = sections["remove"];
        Assert.Contains("dpkg-r=0", removed);
        Assert.Equal(["left /etc/vigil", "left /var/lib/vigil"], Lines(removed, "left "));
        Assert.Equal(["left-file /etc/vigil/decoders/local_decoder.xml", "left-file /etc/vigil/ossec.conf", "left-file /etc/vigil/rules/local_rules.xml"], Lines(removed, "left-file "));
        Assert.Equal(["/var/lib/vigil/quarantine.db", "/var/lib/vigil/vault"], Lines(removed, "left-state ").Select(l => l["left-state ".Length..]).Where(p => !p.StartsWith("/var/lib/vigil/quarantine.db-", StringComparison.Ordinal)));
        Assert.Contains("left-vault-files=1", removed);
        Assert.Contains("said: vigil: the quarantine is kept: 1 file(s) in /var/lib/vigil/vault", removed);
        Assert.Contains("status=deinstall ok config-files", removed);

        // Purge: nothing.
        var purged = sections["purge"];
        Assert.Contains("dpkg-p=0", purged);
        Assert.Empty(Lines(purged, "left "));
        Assert.Contains("status=not-installed", purged);

        // Remove with an empty quarantine: nothing but the conffiles.
        Assert.Contains("dpkg-i=0", sections["reinstall"]);
        var removedEmpty = sections["remove-empty"];
        Assert.Contains("dpkg-r=0", removedEmpty);
        Assert.Equal(["left /etc/vigil"], Lines(removedEmpty, "left "));
        Assert.Contains("dpkg-p=0", removedEmpty);

        // And nothing on the real host.
        Assert.False(File.Exists("/usr/bin/vigil"));
        Assert.False(Directory.Exists("/etc/vigil"));
        Assert.False(Directory.Exists("/var/lib/vigil"));
        Assert.False(Directory.Exists("/var/tmp/vigil-package-test"));
        Assert.False(Directory.Exists("/.vigil-quarantine"));
        Assert.Contains("no packages found matching vigil", RunWithExit("dpkg-query", "-W", "vigil").Output);
    }

    private static Dictionary<string, string> Sections(string output)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        string? name = null;
        var text = new List<string>();
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith("== ", StringComparison.Ordinal))
            {
                if (name is not null)
                {
                    result[name] = string.Join('\n', text);
                }

                name = line[3..].Trim();
                text.Clear();
            }
            else
            {
                text.Add(line);
            }
        }

        Assert.True(result.ContainsKey("purge") && name == "end", output);
        return result;
    }

    private static string[] Lines(string section, string prefix) =>
        [.. section.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal))];

    private static string Run(string file, params string[] args)
    {
        var (exit, output) = RunWithExit(file, args);
        Assert.True(exit == 0, $"{file} {string.Join(' ', args)} exited {exit}:\n{output}");
        return output;
    }

    private static (int Exit, string Output) RunWithExit(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var variable in new[] { "VIGIL_HOME", "VIGIL_DATA", "VIGIL_MONITORED" })
        {
            start.Environment.Remove(variable);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
