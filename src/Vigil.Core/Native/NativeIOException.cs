namespace Vigil.Core.Native;

/// <summary>A failed libc call on a path, with its errno.</summary>
internal sealed class NativeIOException(string operation, string path, int errno)
    : VigilException($"{operation} {path}: {LibC.Describe(errno)}")
{
    public string Operation { get; } = operation;

    public string Path { get; } = path;

    public int Errno { get; } = errno;
}
