namespace Vigil.Core.Hashing;

/// <summary>Lowercase hex digests of one content and its length; a digest that was not requested is null.</summary>
internal readonly record struct ContentHashes(string? Md5, string? Sha1, string? Sha256, long Length);
