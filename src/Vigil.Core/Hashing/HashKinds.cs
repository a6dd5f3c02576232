namespace Vigil.Core.Hashing;

/// <summary>Which digests <see cref="ContentHasher"/> computes.</summary>
[Flags]
internal enum HashKinds
{
    None = 0,
    Md5 = 1,
    Sha1 = 2,
    Sha256 = 4,
    All = Md5 | Sha1 | Sha256,
}
