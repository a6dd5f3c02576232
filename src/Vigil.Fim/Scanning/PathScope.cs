using Vigil.Core.Configuration;

namespace Vigil.Fim.Scanning;

/// <summary>
/// Which paths FIM looks at: the configured directory with the longest prefix governs a path; ignore (case-insensitive
/// prefix or sregex), recursion_level, skip_* and, for files only, restrict decide whether it is in scope.
/// </summary>
internal sealed class PathScope
{
    private readonly SyscheckOptions _options;
    private readonly string[] _ignorePrefixes;
    private readonly IPathPattern[] _ignorePatterns;
    private readonly Dictionary<DirectoryOptions, IPathPattern?> _restrict;
    private readonly HashSet<string> _roots;

    public PathScope(SyscheckOptions options, PathPatternFactory patterns, MountTable mounts)
    {
        _options = options;
        Mounts = mounts;
        _ignorePrefixes = [.. options.Ignore.Where(i => !i.IsSregex).Select(i => i.Pattern)];
        _ignorePatterns = [.. options.Ignore.Where(i => i.IsSregex).Select(i => patterns(i.Pattern))];
        _restrict = options.Directories.Distinct().ToDictionary(d => d, d => d.Restrict is null ? null : patterns(d.Restrict));
        _roots = [.. options.Directories.Select(d => d.Path)];
    }

    public MountTable Mounts { get; }

    public SyscheckOptions Options => _options;

    public DirectoryOptions? DirectoryFor(string path) => _options.DirectoryFor(path);

    /// <summary>Whether the path is itself a configured directory.</summary>
    public bool IsConfiguredRoot(string path) => _roots.Contains(path);

    public bool IsIgnored(string path, bool isDirectory)
    {
        foreach (var prefix in _ignorePrefixes)
        {
            if (path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach (var pattern in _ignorePatterns)
        {
            // A negated expression would match almost every directory; Wazuh applies it to files only.
            if ((!isDirectory || !pattern.IsNegated) && pattern.IsMatch(path))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Separators below the configured root: files at the root have depth 0.</summary>
    public static int Depth(DirectoryOptions directory, string path)
    {
        if (path.Length <= directory.Path.Length)
        {
            return -1;
        }

        var start = directory.Path == "/" ? 1 : directory.Path.Length + 1;
        return path.AsSpan(start).Count('/');
    }

    /// <summary>Whether a directory under <paramref name="directory"/> is walked and watched.</summary>
    public bool ShouldEnterDirectory(DirectoryOptions directory, string path) =>
        path == directory.Path
        || (Depth(directory, path) < directory.RecursionLevel && !IsIgnored(path, isDirectory: true) && !Mounts.IsSkipped(path, _options));

    /// <summary>Whether a non-directory entry is recorded; its parent is assumed to be entered already.</summary>
    public bool IsFileInScope(DirectoryOptions directory, string path) =>
        Depth(directory, path) <= directory.RecursionLevel
        && !IsIgnored(path, isDirectory: false)
        && (_restrict.GetValueOrDefault(directory) is not { } restrict || restrict.IsMatch(path));

    /// <summary>The full check for a path seen in isolation (realtime, rescans): its governing directory or null.</summary>
    public DirectoryOptions? Resolve(string path, bool isDirectory)
    {
        var directory = DirectoryFor(path);
        if (directory is null || Mounts.IsSkipped(path, _options))
        {
            return null;
        }

        // Every ancestor between the root and the path must be enterable (not ignored, within recursion_level).
        var parent = Path.GetDirectoryName(path);
        while (parent is not null && parent.Length > directory.Path.Length)
        {
            if (IsIgnored(parent, isDirectory: true) || Depth(directory, parent) >= directory.RecursionLevel)
            {
                return null;
            }

            parent = Path.GetDirectoryName(parent);
        }

        if (isDirectory)
        {
            return ShouldEnterDirectory(directory, path) ? directory : null;
        }

        return IsFileInScope(directory, path) ? directory : null;
    }
}
