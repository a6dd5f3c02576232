using System.CommandLine;
using System.Text.RegularExpressions;
using Vigil.Tests.Common;

namespace Vigil.Cli.Tests.Docs;

/// <summary>
/// The README's command table and each command's --help say the same: every command has its row, every option and
/// argument of the command (and of its subcommands) is in that row, and the row names nothing the command lacks.
/// </summary>
public sealed partial class HelpAndReadmeTests
{
    private static readonly Lazy<Dictionary<string, (string Usage, string Row)>> Rows = new(ReadRows);

    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        foreach (var command in VigilCommandLine.Build().Subcommands.Where(c => !c.Hidden))
        {
            data.Add(command.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Readme_DescribesTheCommandAsItsHelpDoes(string name)
    {
        var command = VigilCommandLine.Build().Subcommands.Single(c => c.Name == name);
        Assert.True(Rows.Value.TryGetValue(name, out var row), $"README.md's command table has no row for `vigil {name}`");

        var problems = new List<string>();
        foreach (var option in Descendants(command).SelectMany(c => c.Options).Where(o => !IsBuiltIn(o)).DistinctBy(o => o.Name))
        {
            if (!Mentions(row.Row, option.Name))
            {
                problems.Add($"option {option.Name} (from --help) is not in the README row");
            }
        }

        foreach (var sub in Descendants(command).Skip(1).Where(c => !c.Hidden))
        {
            if (!Regex.IsMatch(row.Usage, $@"(?<![\w-]){Regex.Escape(sub.Name)}(?![\w-])"))
            {
                problems.Add($"subcommand '{sub.Name}' is not in the README row");
            }
        }

        foreach (var argument in Descendants(command).SelectMany(c => c.Arguments))
        {
            var shown = argument.Name.ToUpperInvariant().Replace('-', '_');
            // A list argument ("paths") is written in the singular with an ellipsis ("PATH…").
            if (!row.Usage.Contains(shown, StringComparison.Ordinal) && !(shown.EndsWith('S') && row.Usage.Contains(shown[..^1] + "…", StringComparison.Ordinal)))
            {
                problems.Add($"argument {shown} is not in the README row");
            }
        }

        var known = Descendants(command).SelectMany(c => c.Options).SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (Match written in ReadmeOption().Matches(row.Usage))
        {
            var option = written.Value;
            if (!known.Contains(option) && !(option.EndsWith('…') && known.Any(k => k.StartsWith(option.TrimEnd('…'), StringComparison.Ordinal))))
            {
                problems.Add($"the README row names {option}, which `vigil {name} --help` does not have");
            }
        }

        Assert.True(problems.Count == 0, $"vigil {name}: " + string.Join("; ", problems));
    }

    [Fact]
    public void Readme_HasNoRowForACommandThatDoesNotExist()
    {
        var names = VigilCommandLine.Build().Subcommands.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var stale = Rows.Value.Keys.Where(k => !names.Contains(k)).ToArray();
        Assert.True(stale.Length == 0, $"README rows for commands that do not exist: {string.Join(", ", stale)}");
    }

    private static IEnumerable<Command> Descendants(Command command) =>
        command.Subcommands.SelectMany(Descendants).Prepend(command);

    private static bool IsBuiltIn(Option option) => option.Name is "--help" or "--version";

    /// <summary>An option is named in the row in full, or under a written prefix such as <c>--web-…</c>.</summary>
    private static bool Mentions(string row, string option) =>
        Regex.IsMatch(row, $@"(?<![\w-]){Regex.Escape(option)}(?![\w-])")
        || ReadmeOption().Matches(row).Any(m => m.Value.EndsWith('…') && option.StartsWith(m.Value.TrimEnd('…'), StringComparison.Ordinal));

    /// <summary>The rows of the README's command table: command name → (usage cell, whole row).</summary>
    private static Dictionary<string, (string Usage, string Row)> ReadRows()
    {
        var rows = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(RepositoryPaths.Get("README.md")))
        {
            if (TableRow().Match(line) is not { Success: true } match)
            {
                continue;
            }

            var name = match.Groups["name"].Value;
            var usage = match.Groups["usage"].Value;
            rows[name] = rows.TryGetValue(name, out var earlier) ? (earlier.Item1 + " " + usage, earlier.Item2 + " " + line) : (usage, line);
        }

        return rows;
    }

    [GeneratedRegex(@"^\| `\./vigil (?<name>[a-z-]+)(?<usage>[^`]*)`")]
    private static partial Regex TableRow();

    [GeneratedRegex(@"(?<![\w-])--[a-z][a-z0-9-]*…?")]
    private static partial Regex ReadmeOption();
}
