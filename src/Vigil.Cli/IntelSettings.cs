using System.CommandLine;
using Vigil.Core;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;
using Vigil.Intel;

namespace Vigil.Cli;

/// <summary>
/// What `vigil scan` and `vigil vt check` share with `vigil run`: the virustotal integration's settings from the
/// ossec.conf (key from &lt;api_key&gt; or VIGIL_VT_API_KEY, &lt;options&gt;) and the intelligence database
/// <c>&lt;data&gt;/intel/intel.db</c>, so the verdict cache and the quota are one.
/// </summary>
internal sealed class IntelSettings
{
    public HomeOptions Paths { get; } = new();

    public Option<string?> Config { get; } = new("--config") { Description = "The ossec.conf whose virustotal integration to use (default: config/ossec.conf under the Vigil home)." };

    public void AddTo(Command command)
    {
        Paths.AddTo(command);
        command.Options.Add(Config);
    }

    /// <summary>
    /// The detection engines of the ossec.conf (custom-vigil-yara, custom-vigil-clamav blocks), ready to scan: YARA
    /// rules compiled, clamd asked for its version. Null after printing why one cannot be used.
    /// </summary>
    public Task<IReadOnlyList<Intel.Engines.IFileEngine>?> LoadEnginesAsync(ParseResult parseResult, string command, TextWriter error, CancellationToken cancellationToken) =>
        LoadEnginesAsync(ReadConfig(parseResult), command, error, cancellationToken);

    /// <summary>The engines of a configuration read by <see cref="ReadConfig"/> (none without one).</summary>
    public static async Task<IReadOnlyList<Intel.Engines.IFileEngine>?> LoadEnginesAsync(ConfigLoadResult? result, string command, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (result is null)
        {
            return [];
        }

        var engines = new List<Intel.Engines.IFileEngine>();
        try
        {
            foreach (var integration in IntelIntegrations.Engines(result.Config))
            {
                if (integration.Name == Intel.Engines.EngineSettings.Yara)
                {
                    var yara = new Intel.Yara.YaraEngine(Intel.Engines.EngineSettings.YaraFrom(integration, result.Config.Home));
                    if (yara.Reload().Errors is { Count: > 0 } errors)
                    {
                        foreach (var e in errors)
                        {
                            await error.WriteLineAsync(e.ToString());
                        }

                        await error.WriteLineAsync($"vigil {command}: the YARA rules do not compile (see above)");
                        yara.Dispose();
                        return null;
                    }

                    engines.Add(yara);
                }
                else
                {
                    var clamAv = new Intel.ClamAv.ClamAvEngine(Intel.Engines.EngineSettings.ClamAvFrom(integration, result.Config.Home));
                    if (await clamAv.CheckAsync(cancellationToken) == Intel.ClamAv.ClamAvHealth.Down)
                    {
                        await error.WriteLineAsync($"vigil {command}: ClamAV: {clamAv.Problem}; files are reported with that error");
                    }

                    engines.Add(clamAv);
                }
            }
        }
        catch (VigilException ex)
        {
            await error.WriteLineAsync($"vigil {command}: {ex.Message}");
            return null;
        }

        return engines;
    }

    public static string DatabasePath(string dataDirectory) => Path.Combine(dataDirectory, "intel", "intel.db");

    /// <summary>
    /// The settings, or null after printing the configuration's errors. With no --config and no ossec.conf under the
    /// home, the defaults apply and the key comes from VIGIL_VT_API_KEY.
    /// </summary>
    public Task<IntelOptions?> LoadAsync(ParseResult parseResult, string command, TextWriter error) =>
        LoadAsync(ReadConfig(parseResult), command, error);

    /// <summary>
    /// The ossec.conf these settings name, read and checked once (a command that needs both the settings and the
    /// engines reads it once); null when there is none: no --config and no ossec.conf under the home.
    /// </summary>
    public ConfigLoadResult? ReadConfig(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var home = Paths.ResolveHome(parseResult);
        var explicitPath = parseResult.GetValue(Config);
        var path = Path.GetFullPath(explicitPath ?? Path.Combine(home, "config", "ossec.conf"));
        return explicitPath is null && !File.Exists(path) ? null : OssecConfigLoader.Load(path, new ConfigLoadOptions { Home = home });
    }

    /// <summary>The settings of a configuration read by <see cref="ReadConfig"/> (the defaults without one), or null after printing its errors.</summary>
    public static async Task<IntelOptions?> LoadAsync(ConfigLoadResult? result, string command, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(error);
        IReadOnlyList<IntegrationOptions> integrations;
        if (result is null)
        {
            var key = Environment.GetEnvironmentVariable(OssecConfigLoader.VirusTotalKeyVariable)?.Trim() ?? "";
            integrations = [new IntegrationOptions { Name = "virustotal", ApiKey = new Secret(key) }];
        }
        else
        {
            if (result.HasErrors)
            {
                foreach (var diagnostic in result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error))
                {
                    await error.WriteLineAsync(diagnostic.ToString());
                }

                await error.WriteLineAsync($"vigil {command}: the configuration has errors (see above)");
                return null;
            }

            integrations = [.. IntelIntegrations.Lookups(result.Config)];
        }

        try
        {
            var blocks = integrations.Select(IntelOptions.FromIntegration).ToList();
            var options = blocks.FirstOrDefault(o => !o.ApiKey.IsEmpty) ?? blocks.FirstOrDefault() ?? new IntelOptions();
            // Every block's hash lists count; the built-in list is always checked (it costs nothing and spares the quota).
            return options with { HashLists = [.. blocks.SelectMany(b => b.HashLists).Distinct(StringComparer.Ordinal)], BuiltinList = true };
        }
        catch (VigilException ex)
        {
            await error.WriteLineAsync($"vigil {command}: {ex.Message}");
            return null;
        }
    }
}
