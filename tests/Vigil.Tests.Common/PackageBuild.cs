using System.Diagnostics;

namespace Vigil.Tests.Common;

/// <summary>
/// The outputs of <c>eng/package.sh</c> the tests use: the native remove-threat and the .deb. Built at most once per
/// test run, whichever test asks first (./test runs the script before the tests, so they are normally fresh); test
/// assemblies running at the same time wait on one lock file instead of building twice.
/// </summary>
public static class PackageBuild
{
    private static readonly SemaphoreSlim s_gate = new(1, 1);

    public static string OutputDirectory => RepositoryPaths.Get("artifacts", "package");

    /// <summary>artifacts/package/native/vigil-remove-threat, built first when missing or older than its sources.</summary>
    public static Task<string> NativeRemoveThreatAsync() => EnsureAsync(
        Path.Combine(OutputDirectory, "native", "vigil-remove-threat"),
        "--native-only",
        [RepositoryPaths.Get("src", "Vigil.Core"), RepositoryPaths.Get("src", "Vigil.Response"), RepositoryPaths.Get("src", "Vigil.RemoveThreat"),
         RepositoryPaths.Get("src", "Vigil.Cli", "RemoveThreatCommand.cs"), RepositoryPaths.Get("src", "Vigil.Cli", "HomeOptions.cs"),
         RepositoryPaths.Get("src", "Vigil.Cli", "VigilPaths.cs"), RepositoryPaths.Get("src", "Vigil.Cli", "ExitCodes.cs"),
         RepositoryPaths.Get("Directory.Build.props"), RepositoryPaths.Get("Directory.Packages.props")]);

    /// <summary>artifacts/package/vigil_VERSION_amd64.deb, built first when missing or older than anything it holds.</summary>
    public static Task<string> DebAsync() => EnsureAsync(
        Path.Combine(OutputDirectory, $"vigil_{Core.VigilVersion.Current}_amd64.deb"),
        null,
        [RepositoryPaths.Get("src"), RepositoryPaths.Get("config"), RepositoryPaths.Get("ruleset"), RepositoryPaths.Get("deploy"),
         RepositoryPaths.Get("active-response"), RepositoryPaths.Get("docs"), RepositoryPaths.Get("README.md"), RepositoryPaths.Get("eng", "package.sh"),
         RepositoryPaths.Get("Directory.Build.props"), RepositoryPaths.Get("Directory.Packages.props")]);

    private static async Task<string> EnsureAsync(string output, string? argument, string[] sources)
    {
        await s_gate.WaitAsync();
        try
        {
            Directory.CreateDirectory(OutputDirectory);
            using var lockFile = await LockAsync(Path.Combine(OutputDirectory, ".build.lock"));
            if (File.Exists(output) && File.GetLastWriteTimeUtc(output) >= Newest(sources))
            {
                return output;
            }

            var start = new ProcessStartInfo(RepositoryPaths.Get("eng", "package.sh")) { RedirectStandardOutput = true, RedirectStandardError = true };
            if (argument is not null)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"eng/package.sh {argument} exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
            Assert.True(File.Exists(output), $"eng/package.sh did not write {output}");
            return output;
        }
        finally
        {
            s_gate.Release();
        }
    }

    private static async Task<FileStream> LockAsync(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 3600)
            {
                await Task.Delay(500); // another test assembly is building
            }
        }
    }

    private static DateTime Newest(string[] sources)
    {
        var newest = DateTime.MinValue;
        foreach (var source in sources)
        {
            var files = Directory.Exists(source)
                ? Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
                : File.Exists(source) ? [source] : [];
            foreach (var file in files)
            {
                var time = File.GetLastWriteTimeUtc(file);
                newest = time > newest ? time : newest;
            }
        }

        return newest;
    }
}
