using Vigil.Core.Configuration;
using Vigil.Tests.Common;

namespace Vigil.Cli.Tests;

/// <summary>What `./vigil run` needs from the checkout itself: every program the shipped configuration names.</summary>
public sealed class ShippedLayoutTests
{
    [Fact]
    public void ShippedConfig_EveryCommandExecutable_IsInActiveResponseBinAndExecutable()
    {
        var config = OssecConfigLoader.Load(RepositoryPaths.Get("config", "ossec.conf"), new ConfigLoadOptions { Home = RepositoryPaths.Root }).Config;
        Assert.NotEmpty(config.Commands);
        foreach (var command in config.Commands)
        {
            var program = RepositoryPaths.Get("active-response", "bin", command.Executable);
            Assert.True(File.Exists(program), $"{command.Name}: {program} is missing");
            Assert.True(File.GetUnixFileMode(program).HasFlag(UnixFileMode.UserExecute), $"{program} is not executable");
        }
    }
}
