using Vigil.Analysis;
using Vigil.Analysis.Rules;
using Vigil.Core.Configuration;
using Vigil.Core.Diagnostics;

namespace Vigil.Cli;

/// <summary>Loads the configuration and rules a command needs, printing every problem as <c>file:line: error: …</c>.</summary>
internal static class ConfigLoading
{
    /// <summary>
    /// The configuration alone, without its decoders and rules: for the agent, which analyses nothing (the manager
    /// does), so neither reads nor compiles a ruleset it would not use (about a tenth of its start).
    /// </summary>
    public static (OssecConfig Config, IReadOnlyList<Diagnostic> Diagnostics) LoadWithoutRules(string? configPath, string? home = null)
    {
        home ??= VigilPaths.Home;
        var result = OssecConfigLoader.Load(Path.GetFullPath(configPath ?? Path.Combine(home, "config", "ossec.conf")), new ConfigLoadOptions { Home = home });
        return (result.Config, result.Diagnostics);
    }

    /// <summary>Loads <paramref name="configPath"/> (default: config/ossec.conf under the home); relative paths in it
    /// resolve against <paramref name="home"/> (default: <see cref="VigilPaths.Home"/>).</summary>
    /// <remarks>With <c>addRules</c>, <c>ruleFiles</c> load after the configuration's rules (a file it already names
    /// loads once) instead of in their place.</remarks>
    public static (OssecConfig Config, RuleSet Rules, IReadOnlyList<Diagnostic> Diagnostics) Load(
        string? configPath, IReadOnlyList<string>? ruleFiles, string? home = null, bool addRules = false)
    {
        home ??= VigilPaths.Home;
        var path = Path.GetFullPath(configPath ?? Path.Combine(home, "config", "ossec.conf"));
        var result = OssecConfigLoader.Load(path, new ConfigLoadOptions { Home = home });
        var diagnostics = new DiagnosticBag();
        diagnostics.AddRange(result.Diagnostics);
        var files = ruleFiles?.Select(Path.GetFullPath).ToList();
        if (addRules && files is not null)
        {
            var configured = RuleSet.RuleFilesOf(result.Config).Select(Path.GetFullPath).ToList();
            files = [.. configured, .. files.Where(f => !configured.Contains(f, StringComparer.Ordinal))];
        }

        var rules = AnalysisFactory.LoadRules(result.Config, diagnostics, files);
        return (result.Config, rules, diagnostics.Items);
    }

    /// <summary>
    /// The directories syscheck monitors, from the ossec.conf under a home (Vigil's config/ or Wazuh's etc/); empty when
    /// there is none or it does not load, so a removal outside an explicit allow-list is refused.
    /// </summary>
    public static IReadOnlyList<string> MonitoredDirectories(string home) => OssecConfigLoader.MonitoredDirectories(home);

    /// <summary>
    /// What the configuration names on this host that is not there: an active-response <c>&lt;executable&gt;</c>
    /// missing from (or not executable in) <c>active-response/bin</c> is an error for <c>config check</c> (the removal
    /// would never run); a watched directory, rule or decoder directory that does not exist is a warning. The hosts
    /// print all of them as warnings and start anyway (execd raises rule 200305 if the program is still missing).
    /// </summary>
    public static IReadOnlyList<Diagnostic> CheckInstall(OssecConfig config, bool missingProgramIsError)
    {
        var found = new List<Diagnostic>();
        var bin = Path.Combine(config.Home, "active-response", "bin");
        foreach (var command in config.Commands.Where(c => config.ActiveResponses.Any(ar => ar.Command == c.Name)))
        {
            var program = Path.Combine(bin, command.Executable);
            var problem = !File.Exists(program)
                ? $"<executable> {command.Executable} of command {command.Name} does not exist in {bin}: the active response would never run"
                : !OperatingSystem.IsWindows() && (File.GetUnixFileMode(program) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0
                    ? $"<executable> {command.Executable} of command {command.Name} is not executable ({program}): chmod 750 it"
                    : null;
            if (problem is not null)
            {
                found.Add(new Diagnostic(command.Source.File, command.Source.Line, missingProgramIsError ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning, problem));
            }
        }

        if (!config.Syscheck.Disabled)
        {
            foreach (var directory in config.Syscheck.Directories)
            {
                if (!Path.Exists(directory.Path))
                {
                    found.Add(new Diagnostic(directory.Source.File, directory.Source.Line, DiagnosticSeverity.Warning,
                        $"<directories> {directory.Path} does not exist on this host: nothing is monitored there until it is created"));
                }
                else if (Vigil.Fim.Scanning.SkippedDirectories.Explain(directory.Path, config.Syscheck) is { } skipped)
                {
                    found.Add(new Diagnostic(directory.Source.File, directory.Source.Line, DiagnosticSeverity.Warning, $"<directories> {skipped}"));
                }
                else if (SymbolicLinks.FirstIn(directory.Path) is { } link)
                {
                    var real = SymbolicLinks.Resolve(directory.Path) ?? "the real directory (its links loop)";
                    var problem = link.Path == Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory.Path)) && !directory.FollowSymbolicLink
                        ? $"<directories> {directory.Path} is a symbolic link (to {link.Target}) and follow_symbolic_link is not set: only the link itself is monitored, nothing under it; name {real} instead"
                        : $"<directories> {directory.Path} is reached through a symbolic link ({link.Path} -> {link.Target}): its files are monitored, but the YARA and ClamAV engines and the removal never open a file through a symbolic link, so they are neither scanned nor removed; name {real} instead";
                    found.Add(new Diagnostic(directory.Source.File, directory.Source.Line, DiagnosticSeverity.Warning, problem));
                }
            }
        }

        foreach (var (kind, directory) in config.Ruleset.RuleDirs.Select(d => ("rule_dir", d)).Concat(config.Ruleset.DecoderDirs.Select(d => ("decoder_dir", d))))
        {
            if (!Directory.Exists(config.ResolvePath(directory)))
            {
                found.Add(new Diagnostic(config.SourcePath, 0, DiagnosticSeverity.Warning, $"<{kind}> {directory} does not exist ({config.ResolvePath(directory)}): nothing is loaded from it"));
            }
        }

        return found;
    }

    /// <summary>A warning about an <c>&lt;integration&gt;</c> block's API key, which only the manager's side uses.</summary>
    public static bool IsIntegrationNotice(Diagnostic diagnostic) =>
        diagnostic.Severity == DiagnosticSeverity.Warning
        && (diagnostic.Message.StartsWith("the virustotal integration", StringComparison.Ordinal) || diagnostic.Message.StartsWith("<api_key>", StringComparison.Ordinal));

    public static bool HasErrors(IReadOnlyList<Diagnostic> diagnostics) => diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);

    public static void Print(IReadOnlyList<Diagnostic> diagnostics, TextWriter writer)
    {
        foreach (var diagnostic in diagnostics)
        {
            writer.WriteLine(diagnostic);
        }
    }
}
