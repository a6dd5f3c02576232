using System.Runtime.Versioning;
using Vigil.Core.Native;
using Vigil.Tests.Common;

namespace Vigil.Core.Tests.Native;

public sealed class FileStatusTests
{
    [Fact]
    [SupportedOSPlatform("linux")]
    public void TryGet_RegularFile_AgreesWithFStat()
    {
        using var dir = new TempDirectory();
        var path = dir.WriteFile("a.txt", "hello");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        var status = FileStatus.TryGet(path, followLinks: false, out var errno);
        using var handle = File.OpenHandle(path);
        Assert.Equal(0, LibC.FStat(handle.Fd(), out var stat));

        Assert.Equal(0, errno);
        Assert.NotNull(status);
        Assert.True(status.Value.IsRegularFile);
        Assert.True(stat.IsRegularFile);
        Assert.Equal(5, status.Value.Size);
        Assert.Equal(stat.Size, status.Value.Size);
        Assert.Equal(stat.Ino, status.Value.Inode);
        Assert.Equal(stat.Dev, status.Value.Device);
        Assert.Equal(stat.Mode, status.Value.Mode);
        Assert.Equal(stat.MTime.Seconds, status.Value.MtimeSeconds);
        Assert.Equal("rw-r-----", FileStatus.PermissionString(status.Value.Mode));
    }

    [Fact]
    public void TryGet_Symlink_IsTheLinkUnlessFollowed()
    {
        using var dir = new TempDirectory();
        var target = dir.WriteFile("target.txt", "x");
        var link = dir.Combine("link");
        File.CreateSymbolicLink(link, target);

        Assert.True(FileStatus.TryGet(link, followLinks: false)!.Value.IsSymlink);
        Assert.True(FileStatus.TryGet(link, followLinks: true)!.Value.IsRegularFile);
        Assert.True(FileStatus.TryGet(dir.Path, followLinks: false)!.Value.IsDirectory);
    }

    [Fact]
    public void TryGet_MissingPath_GivesENOENT()
    {
        using var dir = new TempDirectory();

        Assert.Null(FileStatus.TryGet(dir.Combine("absent"), followLinks: false, out var errno));
        Assert.Equal(LibC.ENOENT, errno);
    }

    [Fact]
    public void PermissionString_ShowsSpecialBits()
    {
        Assert.Equal("rwsr-sr-t", FileStatus.PermissionString(0xFED)); // 07755
        Assert.Equal("rwSr-Sr-T", FileStatus.PermissionString(0xFA4)); // 07644
    }
}
