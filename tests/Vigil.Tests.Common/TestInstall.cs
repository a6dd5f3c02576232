namespace Vigil.Tests.Common;

/// <summary>The parts of a Vigil home that the end-to-end fixtures and benchmarks write alike.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class TestInstall
{
    /// <summary>
    /// Writes the seed guide's <c>local_rules.xml</c> under <paramref name="relativeHome"/>, its <c>/root</c> file
    /// condition pointing at <paramref name="watched"/> instead.
    /// </summary>
    public static string WriteSeedRules(TempDirectory temp, string relativeHome, string watched) =>
        temp.WriteFile($"{relativeHome}/config/rules/local_rules.xml", File.ReadAllText(RepositoryPaths.Get("config", "rules", "local_rules.xml"))
            .Replace("<field name=\"file\">/root</field>", $"<field name=\"file\">{watched}</field>", StringComparison.Ordinal));

    /// <summary>
    /// A home as the checkout ships it: <c>config/ossec.conf</c>, <c>config/rules/local_rules.xml</c> and <c>config/decoders/local_decoder.xml</c> verbatim (so
    /// the guide's rules test <c>/root</c>), the built-in <c>ruleset/</c>, the guide's <c>remove-threat.sh</c> and the
    /// <c>remove-threat</c> wrapper for this build. Returns the home's path.
    /// </summary>
    public static string WriteShippedHome(TempDirectory temp, string relativeHome)
    {
        var home = temp.Combine(relativeHome);
        temp.WriteFile($"{relativeHome}/config/ossec.conf", File.ReadAllText(RepositoryPaths.Get("config", "ossec.conf")));
        temp.WriteFile($"{relativeHome}/config/rules/local_rules.xml", File.ReadAllText(RepositoryPaths.Get("config", "rules", "local_rules.xml")));
        temp.WriteFile($"{relativeHome}/config/decoders/local_decoder.xml", File.ReadAllText(RepositoryPaths.Get("config", "decoders", "local_decoder.xml")));
        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.Get("ruleset"), "*", SearchOption.AllDirectories))
        {
            temp.WriteFile($"{relativeHome}/ruleset/{Path.GetRelativePath(RepositoryPaths.Get("ruleset"), file)}", File.ReadAllText(file));
        }

        var script = temp.WriteFile($"{relativeHome}/active-response/bin/remove-threat.sh", File.ReadAllText(RepositoryPaths.Get("active-response", "bin", "remove-threat.sh")));
        File.SetUnixFileMode(script, File.GetUnixFileMode(RepositoryPaths.Get("active-response", "bin", "remove-threat.sh")));
        WriteRemoveThreatScript(temp, relativeHome);
        return home;
    }

    /// <summary>Writes <c>active-response/bin/remove-threat</c> as a script that runs this build's <c>vigil remove-threat</c>.</summary>
    public static string WriteRemoveThreatScript(TempDirectory temp, string relativeHome)
    {
        var program = temp.WriteFile($"{relativeHome}/active-response/bin/remove-threat", $"#!/bin/sh\nexec dotnet '{VigilProcess.DllPath}' remove-threat\n");
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return program;
    }
}
