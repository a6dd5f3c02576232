using System.CommandLine;
using Vigil.Tests.Common.VirusTotal;

namespace Vigil.Cli.Tests;

/// <summary>A temp home and data directory, an optional VirusTotal emulator, and `vigil` run in process.</summary>
internal sealed class IntelCommandHarness : IAsyncDisposable
{
    /// <summary>A key distinctive enough that finding it in any output means it leaked.</summary>
    public const string Key = "k3y-s3cret-9f8e7d6c5b4a";

    private IntelCommandHarness(string directory, VirusTotalEmulator? emulator)
    {
        Directory = directory;
        Emulator = emulator;
    }

    public string Directory { get; }

    public VirusTotalEmulator? Emulator { get; }

    public string DataDir => Path.Combine(Directory, "data");

    public string ConfigPath => Path.Combine(Directory, "ossec.conf");

    /// <summary>No configuration and no key: the built-in list only.</summary>
    public static Task<IntelCommandHarness> StartWithoutKeyAsync() =>
        Task.FromResult(new IntelCommandHarness(System.IO.Directory.CreateTempSubdirectory("vigil-cli-intel-").FullName, null));

    /// <summary>An emulator and an ossec.conf whose virustotal integration points at it.</summary>
    public static async Task<IntelCommandHarness> StartAsync(string options = "")
    {
        var emulator = await VirusTotalEmulator.StartAsync();
        emulator.ApiKeys[Key] = true;
        var harness = new IntelCommandHarness(System.IO.Directory.CreateTempSubdirectory("vigil-cli-intel-").FullName, emulator);
        harness.WriteConfig(Key, emulator.BaseUrl.ToString(), options);
        return harness;
    }

    public void WriteConfig(string key, string baseUrl, string options = "")
    {
        var pem = Emulator!.WriteCertificatePem(Path.Combine(Directory, "vt.pem"));
        File.WriteAllText(ConfigPath, $$"""
            <ossec_config>
              <integration>
                <name>virustotal</name>
                <api_key>{{key}}</api_key>
                <group>syscheck</group>
                <alert_format>json</alert_format>
                <options>{"base_url": "{{baseUrl}}", "trusted_certificate": "{{pem}}"{{options}}}</options>
              </integration>
            </ossec_config>
            """);
    }

    public string CreateFile(string relativePath, string content)
    {
        var path = Path.Combine(Directory, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Runs `vigil ARGS --home DIR --data-dir DIR [--config FILE]`; returns the exit code and both outputs.</summary>
    public async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        var all = args.Concat(["--home", Directory, "--data-dir", DataDir]);
        if (Emulator is not null)
        {
            all = all.Concat(["--config", ConfigPath]);
        }

        var output = new StringWriter();
        var error = new StringWriter();
        var code = await VigilCommandLine.Build().Parse([.. all]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        if (Emulator is not null)
        {
            await Emulator.DisposeAsync();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
