namespace Vigil.Cli;

/// <summary>The symbolic links in an absolute path, for the configuration's warnings (nothing here opens a file).</summary>
internal static class SymbolicLinks
{
    // As the kernel's limit on links followed in one lookup (MAXSYMLINKS).
    private const int MaxLinks = 40;

    /// <summary>The first component of <paramref name="path"/> that is a symbolic link, and what it points to; null when none is.</summary>
    public static (string Path, string Target)? FirstIn(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var prefix = "/";
        foreach (var component in full.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            prefix = Path.Combine(prefix, component);
            if (LinkTarget(prefix) is { } target)
            {
                return (prefix, target);
            }
        }

        return null;
    }

    /// <summary>
    /// <paramref name="path"/> with every symbolic link in it resolved, as realpath(3) gives it; null when the links
    /// loop (more than the kernel would follow).
    /// </summary>
    public static string? Resolve(string path)
    {
        var remaining = new Queue<string>(Path.GetFullPath(path).Split('/', StringSplitOptions.RemoveEmptyEntries));
        var resolved = "/";
        var followed = 0;
        while (remaining.TryDequeue(out var component))
        {
            var next = Path.Combine(resolved, component);
            if (LinkTarget(next) is not { } target)
            {
                resolved = next;
                continue;
            }

            if (++followed > MaxLinks)
            {
                return null;
            }

            // The target, then what was left, resolved again from the link's directory (or from / for an absolute target).
            var rest = remaining.ToList();
            remaining = new Queue<string>([.. target.Split('/', StringSplitOptions.RemoveEmptyEntries), .. rest]);
            if (target.StartsWith('/'))
            {
                resolved = "/";
            }
        }

        return Path.GetFullPath(resolved);
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
