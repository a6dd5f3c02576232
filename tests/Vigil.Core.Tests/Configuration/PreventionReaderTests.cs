using Vigil.Core.Prevention;

namespace Vigil.Core.Tests.Configuration;

public sealed class PreventionReaderTests
{
    [Fact]
    public void Load_NoPreventionBlock_HasTheDocumentedDefaults()
    {
        var result = ConfigTest.LoadBlocks("<syscheck><directories>/srv</directories></syscheck>");

        Assert.Empty(result.Diagnostics);
        var prevention = result.Config.Prevention;
        Assert.Equal(TimeSpan.FromMilliseconds(250), prevention.Deadline);
        Assert.Equal(PreventionTimeoutPolicy.Allow, prevention.OnTimeout);
        Assert.False(prevention.HoldUnknownExec);
        Assert.Equal(["ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs"], prevention.FileSystems);
        Assert.Equal(PreventionMode.Off, Assert.Single(result.Config.Syscheck.Directories).Prevention);
    }

    [Fact]
    public void Load_DirectoriesPreventionAttribute_SetsTheModePerDirectory()
    {
        var result = ConfigTest.LoadBlocks("""
            <syscheck>
              <directories realtime="yes" prevention="block">/srv/www</directories>
              <directories prevention="audit">/home</directories>
              <directories prevention="off">/etc</directories>
            </syscheck>
            """);

        Assert.Empty(result.Diagnostics);
        Assert.Equal(
            [("/srv/www", PreventionMode.Block), ("/home", PreventionMode.Audit), ("/etc", PreventionMode.Off)],
            result.Config.Syscheck.Directories.Select(d => (d.Path, d.Prevention)));
    }

    [Fact]
    public void Load_BadPreventionAttribute_IsAnErrorWithItsLine()
    {
        var result = ConfigTest.LoadBlocks("<syscheck>\n<directories prevention=\"deny\">/srv</directories>\n</syscheck>");

        Assert.Equal("ossec.conf:3: error: prevention must be off, audit or block, got 'deny'", result.SingleError());
    }

    [Fact]
    public void Load_PreventionBlock_ReadsEveryOption()
    {
        var result = ConfigTest.LoadBlocks("""
            <prevention>
              <deadline>100ms</deadline>
              <on_timeout>deny</on_timeout>
              <hold_unknown_exec>yes</hold_unknown_exec>
              <filesystems>ext4,xfs</filesystems>
              <queue_size>512</queue_size>
              <max_file_size>8MB</max_file_size>
              <workers>4</workers>
              <hash_list>lists/bad.sha256</hash_list>
            </prevention>
            """);

        Assert.Empty(result.Diagnostics);
        var prevention = result.Config.Prevention;
        Assert.Equal(TimeSpan.FromMilliseconds(100), prevention.Deadline);
        Assert.Equal(PreventionTimeoutPolicy.Deny, prevention.OnTimeout);
        Assert.True(prevention.HoldUnknownExec);
        Assert.Equal(["ext4", "xfs"], prevention.FileSystems);
        Assert.Equal(512, prevention.QueueSize);
        Assert.Equal(8L << 20, prevention.MaxFileSizeBytes);
        Assert.Equal(4, prevention.Workers);
        Assert.Equal(["lists/bad.sha256"], prevention.HashLists);
    }

    [Theory]
    [InlineData("<deadline>0</deadline>", "<deadline> must be a time from 1ms to 10s")]
    [InlineData("<deadline>30s</deadline>", "<deadline> must be a time from 1ms to 10s")]
    [InlineData("<on_timeout>block</on_timeout>", "<on_timeout> must be allow or deny, got 'block'")]
    [InlineData("<filesystems>ext4,nfs,fuse</filesystems>", "<filesystems> may not list nfs, fuse")]
    [InlineData("<workers>0</workers>", "<workers> must be from 1 to 64 threads")]
    [InlineData("<hold>yes</hold>", "hold")]
    public void Load_BadPreventionOption_IsOneErrorNamingIt(string option, string expected)
    {
        var result = ConfigTest.LoadBlocks($"<prevention>\n{option}\n</prevention>");

        Assert.Contains(expected, result.SingleError());
        Assert.StartsWith("ossec.conf:3: error: ", result.SingleError());
    }

    [Fact]
    public void Load_OneSecondDeadline_IsAccepted()
    {
        var result = ConfigTest.LoadBlocks("<prevention><deadline>1s</deadline></prevention>");

        Assert.Empty(result.Diagnostics);
        Assert.Equal(TimeSpan.FromSeconds(1), result.Config.Prevention.Deadline);
    }
}
