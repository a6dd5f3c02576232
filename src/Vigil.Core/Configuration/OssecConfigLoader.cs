using Vigil.Core.Diagnostics;

namespace Vigil.Core.Configuration;

/// <summary>Settings for reading an <c>ossec.conf</c>.</summary>
public sealed record ConfigLoadOptions
{
    /// <summary>The install root relative paths resolve against; else <c>VIGIL_HOME</c>, else the parent of the file's directory.</summary>
    public string? Home { get; init; }

    /// <summary>Reads environment variables (secrets such as <c>VIGIL_VT_API_KEY</c>, <c>$VAR</c> in paths).</summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;
}

/// <summary>A configuration and everything found wrong with it.</summary>
public sealed record ConfigLoadResult(OssecConfig Config, IReadOnlyList<Diagnostic> Diagnostics)
{
    /// <summary>Whether any diagnostic is an error.</summary>
    public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
}

/// <summary>Reads <c>ossec.conf</c> the way Wazuh does, for the parts of the pipeline Vigil implements.</summary>
public static partial class OssecConfigLoader
{
    /// <summary>The environment variable that sets the install root when <see cref="ConfigLoadOptions.Home"/> is not given.</summary>
    public const string HomeVariable = "VIGIL_HOME";

    /// <summary>The environment variable that supplies the VirusTotal API key when <c>&lt;api_key&gt;</c> is empty or absent.</summary>
    public const string VirusTotalKeyVariable = IntegrationReader.VirusTotalKeyVariable;

    /// <summary>Reads an <c>ossec.conf</c> file; problems, including an unreadable file, come back as diagnostics, never as exceptions.</summary>
    public static ConfigLoadResult Load(string path, ConfigLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (ConfigFile.TryReadText(path, out var error) is not { } xml)
        {
            options ??= new();
            var config = new OssecConfig { SourcePath = Path.GetFullPath(path), Home = ResolveHome(path, options) };
            return new(config, [new Diagnostic(path, 0, DiagnosticSeverity.Error, $"cannot read the configuration: {error}")]);
        }

        return LoadFromString(xml, path, options);
    }

    /// <summary>
    /// The directories syscheck monitors, from the ossec.conf under a home (Vigil's config/ or Wazuh's etc/); empty when
    /// there is none or it does not load, so a removal outside an explicit allow-list is refused.
    /// </summary>
    public static IReadOnlyList<string> MonitoredDirectories(string home)
    {
        var path = new[] { Path.Combine(home, "config", "ossec.conf"), Path.Combine(home, "etc", "ossec.conf") }.FirstOrDefault(File.Exists);
        if (path is null)
        {
            return [];
        }

        var result = Load(path, new ConfigLoadOptions { Home = home });
        return result.HasErrors ? [] : [.. result.Config.Syscheck.Directories.Select(d => d.Path)];
    }

    /// <summary>Reads configuration text as if it were the file <paramref name="fileName"/>, which names it in diagnostics.</summary>
    public static ConfigLoadResult LoadFromString(string xml, string fileName, ConfigLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(xml);
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        options ??= new();
        var diagnostics = new DiagnosticBag();
        var config = new OssecConfig { SourcePath = Path.GetFullPath(fileName), Home = ResolveHome(fileName, options) };

        if (ConfigXml.Parse(xml, fileName, diagnostics) is { } file)
        {
            config = new OssecConfigReader(new ConfigContext(fileName, options, diagnostics)).Read(file, config);
        }

        // Report in file order, whichever reader found the problem.
        return new(config, diagnostics.Items.OrderBy(d => d.Line).ToArray());
    }

    /// <summary>Home is the option, else <c>VIGIL_HOME</c>, else the parent of the directory holding the file
    /// (so <c>&lt;checkout&gt;/config/ossec.conf</c> gives <c>&lt;checkout&gt;</c>, as <c>/var/ossec/etc/ossec.conf</c> gives <c>/var/ossec</c>).</summary>
    private static string ResolveHome(string fileName, ConfigLoadOptions options)
    {
        var home = options.Home;
        if (string.IsNullOrEmpty(home))
        {
            home = options.GetEnvironmentVariable(HomeVariable);
        }

        if (!string.IsNullOrEmpty(home))
        {
            return Path.GetFullPath(home);
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(fileName)) ?? "/";
        return Path.GetDirectoryName(directory) ?? directory;
    }
}
