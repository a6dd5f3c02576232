using System.CommandLine;

namespace Vigil.Cli.Tests;

/// <summary>The command line builds the named command alone; it must be the same command as in the whole tree.</summary>
public sealed class CommandTreeTests
{
    [Fact]
    public void Each_name_builds_that_command_alone_as_the_whole_tree_has_it()
    {
        var whole = VigilCommandLine.Build();
        Assert.Equal(whole.Subcommands.Select(c => c.Name), VigilCommandLine.Commands.Select(c => c.Name));
        foreach (var (name, _) in VigilCommandLine.Commands)
        {
            var alone = VigilCommandLine.Build(name);
            var command = Assert.Single(alone.Subcommands);
            Assert.Equal(name, command.Name);
            var full = whole.Subcommands.Single(c => c.Name == name);
            Assert.Equal(Shape(full), Shape(command));
        }
    }

    [Fact]
    public async Task Scan_help_and_usage_errors_read_as_with_the_whole_tree()
    {
        Assert.Equal(await HelpAsync(VigilCommandLine.Build()), await HelpAsync(VigilCommandLine.Build("scan")));
        foreach (string[] args in new[] { new[] { "scan" }, ["scan", "--data-dir"] })
        {
            var whole = VigilCommandLine.Build().Parse(args).Errors.Select(e => e.Message).ToList();
            Assert.NotEmpty(whole);
            Assert.Equal(whole, VigilCommandLine.Build("scan").Parse(args).Errors.Select(e => e.Message));
        }
    }

    private static async Task<string> HelpAsync(RootCommand root)
    {
        var output = new StringWriter();
        Assert.Equal(0, await root.Parse(["scan", "--help"]).InvokeAsync(new InvocationConfiguration { Output = output, Error = new StringWriter() }));
        return output.ToString();
    }

    private static string Shape(Command command) =>
        $"{command.Name}({string.Join(",", command.Options.Select(o => o.Name))};{string.Join(",", command.Arguments.Select(a => a.Name))})"
        + $"[{string.Join(" ", command.Subcommands.Select(Shape))}]";
}
