using System.CommandLine;
using Vigil.Core;

namespace Vigil.Cli.Tests;

public sealed class VersionTests
{
    [Fact]
    public async Task Version_PrintsTheBuildsOneVersion()
    {
        var output = new StringWriter();
        var code = await VigilCommandLine.Build().Parse(["--version"]).InvokeAsync(new InvocationConfiguration { Output = output, Error = new StringWriter() });
        Assert.Equal(0, code);
        Assert.Equal(VigilVersion.Current, output.ToString().Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+$", VigilVersion.Current);
    }
}
