namespace Vigil.Tests.Common;

/// <summary>Finds files of the checkout (the shipped config, the built-in ruleset) from a test assembly.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Vigil.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Vigil.slnx not found above the test assembly");
    });

    /// <summary>The checkout's root folder.</summary>
    public static string Root => s_root.Value;

    /// <summary>A path below the root.</summary>
    public static string Get(params string[] parts) => Path.Combine([Root, .. parts]);
}
