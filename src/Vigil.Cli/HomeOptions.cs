using System.CommandLine;

namespace Vigil.Cli;

/// <summary>
/// Where a command finds the install root and Vigil's data: <c>--home</c>, else <c>$VIGIL_HOME</c> (set by
/// ./vigil to the checkout), else the working directory (Wazuh's execd runs programs from its install root);
/// <c>--data-dir</c>, else <c>$VIGIL_DATA</c>, else <c>&lt;home&gt;/.vigil</c>.
/// </summary>
internal sealed class HomeOptions
{
    public Option<DirectoryInfo> Home { get; } = new("--home") { Description = "Install root (default: $VIGIL_HOME, else the working directory).", Recursive = true };

    public Option<DirectoryInfo> DataDir { get; } = new("--data-dir") { Description = "Data directory: quarantine database and vault (default: <home>/.vigil).", Recursive = true };

    public void AddTo(Command command)
    {
        command.Options.Add(Home);
        command.Options.Add(DataDir);
    }

    public string ResolveHome(ParseResult parseResult) =>
        parseResult.GetValue(Home)?.FullName
        ?? VigilPaths.Home;

    public string ResolveDataDir(ParseResult parseResult) =>
        parseResult.GetValue(DataDir)?.FullName
        ?? (Environment.GetEnvironmentVariable("VIGIL_DATA") is { Length: > 0 } data ? Path.GetFullPath(data) : Path.Combine(ResolveHome(parseResult), ".vigil"));

    /// <summary>
    /// The active-response log of the instance a program acts for: under its data directory when one is given
    /// (<c>--data-dir</c>, or <c>VIGIL_DATA</c>, which Vigil's hosts set for the programs they start), else Wazuh's
    /// <c>&lt;home&gt;/logs/active-responses.log</c> (a program run by a real Wazuh execd).
    /// </summary>
    public string ActiveResponseLog(ParseResult parseResult) =>
        parseResult.GetValue(DataDir) is not null || Environment.GetEnvironmentVariable("VIGIL_DATA") is { Length: > 0 }
            ? Response.Execd.ActiveResponseLog.PathInData(ResolveDataDir(parseResult))
            : Response.Execd.ActiveResponseLog.PathUnder(ResolveHome(parseResult));
}
