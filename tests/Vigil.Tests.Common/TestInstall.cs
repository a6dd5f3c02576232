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

    /// <summary>Writes <c>active-response/bin/remove-threat</c> as a script that runs this build's <c>vigil remove-threat</c>.</summary>
    public static string WriteRemoveThreatScript(TempDirectory temp, string relativeHome)
    {
        var program = temp.WriteFile($"{relativeHome}/active-response/bin/remove-threat", $"#!/bin/sh\nexec dotnet '{VigilProcess.DllPath}' remove-threat\n");
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return program;
    }
}
