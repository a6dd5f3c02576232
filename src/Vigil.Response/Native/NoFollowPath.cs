using System.Text;
using Microsoft.Win32.SafeHandles;
using Vigil.Core.Native;

namespace Vigil.Response.Native;

/// <summary>
/// The directory holding a file, opened from "/" one component at a time with <c>O_NOFOLLOW</c>: no symbolic
/// link anywhere in the path is followed, and every later operation is relative to the held descriptor, so a
/// directory swapped for a symlink after the walk cannot redirect it.
/// </summary>
internal sealed class NoFollowPath : IDisposable
{
    private readonly List<SafeFileHandle> _handles;

    private NoFollowPath(string path, List<SafeFileHandle> handles, List<string> prefixes, List<ulong> devices, string name)
    {
        FullPath = path;
        _handles = handles;
        Prefixes = prefixes;
        Devices = devices;
        Name = name;
    }

    /// <summary>The absolute path this was opened for.</summary>
    public string FullPath { get; }

    /// <summary>The last component: the file's name inside <see cref="Directory"/>.</summary>
    public string Name { get; }

    /// <summary>The open parent directory.</summary>
    public SafeFileHandle Directory => _handles[^1];

    /// <summary>The directory path at each level, "/" first, the parent last.</summary>
    public IReadOnlyList<string> Prefixes { get; }

    /// <summary>The st_dev of each directory in <see cref="Prefixes"/>.</summary>
    public IReadOnlyList<ulong> Devices { get; }

    /// <summary>The descriptor of the directory at <paramref name="level"/> (0 is "/").</summary>
    public SafeFileHandle DirectoryAt(int level) => _handles[level];

    /// <summary>
    /// Opens the parent directories of <paramref name="path"/> (absolute and normalized; see
    /// <see cref="ValidateAbsolute"/>). Throws <see cref="NativeIOException"/>: ELOOP when a component is a
    /// symlink, ENOTDIR when one is not a directory, ENOENT when one does not exist.
    /// </summary>
    public static NoFollowPath OpenParent(string path)
    {
        if (ValidateAbsolute(path) is { } problem)
        {
            throw new ArgumentException(problem, nameof(path));
        }

        var components = path.Split('/')[1..];
        var handles = new List<SafeFileHandle>();
        var prefixes = new List<string>();
        var devices = new List<ulong>();
        try
        {
            const int DirectoryFlags = LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW;
            var current = FileDescriptor.OpenAt(null, "/", DirectoryFlags, 0, "/");
            handles.Add(current);
            prefixes.Add("/");
            devices.Add(FileDescriptor.FStat(current, "/").Dev);
            var prefix = new StringBuilder();
            for (var i = 0; i < components.Length - 1; i++)
            {
                prefix.Append('/').Append(components[i]);
                var text = prefix.ToString();
                var next = FileDescriptor.TryOpenAt(current, components[i], DirectoryFlags, 0, out var errno);
                if (next is null)
                {
                    // O_DIRECTORY|O_NOFOLLOW on a symlink gives ENOTDIR: report it as the symlink it is.
                    if (errno == LibC.ENOTDIR && FileDescriptor.TryLStatAt(current, components[i], out _) is { } link
                        && (link.Mode & LibC.S_IFMT) == LibC.S_IFLNK)
                    {
                        errno = LibC.ELOOP;
                    }

                    throw new NativeIOException("open", text, errno);
                }

                current = next;
                handles.Add(current);
                prefixes.Add(text);
                devices.Add(FileDescriptor.FStat(current, text).Dev);
            }

            return new NoFollowPath(path, handles, prefixes, devices, components[^1]);
        }
        catch
        {
            foreach (var handle in handles)
            {
                handle.Dispose();
            }

            throw;
        }
    }

    /// <summary>Opens a directory itself, with no symlink followed anywhere in <paramref name="path"/>.</summary>
    public static SafeFileHandle OpenDirectory(string path)
    {
        if (path == "/")
        {
            return FileDescriptor.OpenAt(null, "/", LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW, 0, "/");
        }

        using var parent = OpenParent(path);
        return FileDescriptor.OpenAt(parent.Directory, parent.Name, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW, 0, path);
    }

    /// <summary>Null when the path is absolute and normalized (no empty, "." or ".." component, no NUL, no trailing "/"); else why not.</summary>
    public static string? ValidateAbsolute(string path)
    {
        if (path.Length == 0)
        {
            return "the path is empty";
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            return "the path contains a NUL character";
        }

        if (path[0] != '/')
        {
            return "the path is not absolute";
        }

        if (path == "/")
        {
            return "the path is the root directory";
        }

        if (Encoding.UTF8.GetByteCount(path) >= 4096)
        {
            return "the path is too long";
        }

        foreach (var component in path.Split('/')[1..])
        {
            switch (component)
            {
                case "":
                    return "the path is not normalized (empty component or trailing '/')";
                case ".":
                    return "the path is not normalized ('.' component)";
                case "..":
                    return "the path contains '..'";
            }

            if (Encoding.UTF8.GetByteCount(component) > 255)
            {
                return "a path component is longer than 255 bytes";
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="root"/> or lies below it (both normalized).</summary>
    public static bool IsWithin(string path, string root)
    {
        root = root.Length > 1 ? root.TrimEnd('/') : root;
        return root == "/" || (path.StartsWith(root, StringComparison.Ordinal) && (path.Length == root.Length || path[root.Length] == '/'));
    }

    public void Dispose()
    {
        foreach (var handle in _handles)
        {
            handle.Dispose();
        }
    }
}
