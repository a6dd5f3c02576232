using System.Security.Cryptography;

namespace Vigil.Core.Tests;

public sealed class EicarTests
{
    [Fact]
    public void Bytes_HashToThePublishedDigests()
    {
        var bytes = Eicar.Bytes;
        Assert.Equal(68, bytes.Length);
        Assert.Equal(Eicar.Md5, Convert.ToHexStringLower(MD5.HashData(bytes)));
        Assert.Equal(Eicar.Sha1, Convert.ToHexStringLower(SHA1.HashData(bytes)));
        Assert.Equal(Eicar.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }
}
