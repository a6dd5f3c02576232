using Vigil.Core.Native;
using Vigil.Tests.Common;

namespace Vigil.Core.Tests.Native;

public sealed class FileDescriptorTests
{
    [Fact]
    public void TryOpenAt_NoFollow_RefusesASymlinkWithELOOP()
    {
        using var dir = new TempDirectory();
        var target = dir.WriteFile("target.txt", "x");
        var link = dir.Combine("link");
        File.CreateSymbolicLink(link, target);

        using var handle = FileDescriptor.TryOpenAt(null, link, LibC.O_RDONLY | LibC.O_NOFOLLOW, 0, out var errno);

        Assert.Null(handle);
        Assert.Equal(LibC.ELOOP, errno);
    }

    [Fact]
    public void FStat_And_TryLStatAt_DescribeTheSameInode()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("a.txt", "abc");
        using var parent = FileDescriptor.OpenAt(null, dir.Path, LibC.O_RDONLY | LibC.O_DIRECTORY, 0, dir.Path);
        using var file = FileDescriptor.OpenAt(parent, "a.txt", LibC.O_RDONLY, 0, "a.txt");

        var stat = FileDescriptor.FStat(file, "a.txt");
        var lstat = FileDescriptor.TryLStatAt(parent, "a.txt", out var errno);

        Assert.Equal(0, errno);
        Assert.NotNull(lstat);
        Assert.True(stat.IsSameInode(lstat.Value));
        Assert.Equal(3, stat.Size);
        Assert.Equal("regular file", stat.TypeName);
        Assert.Equal("directory", FileDescriptor.FStat(parent, dir.Path).TypeName);
    }

    [Fact]
    public void OpenAt_MissingFile_ThrowsWithTheErrnoText()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("absent");

        var ex = Assert.Throws<NativeIOException>(() => FileDescriptor.OpenAt(null, path, LibC.O_RDONLY, 0, path));

        Assert.Equal(LibC.ENOENT, ex.Errno);
        Assert.Equal($"open {path}: No such file or directory", ex.Message);
    }
}
