namespace Vigil.Tests.Common;

/// <summary>A fresh directory under the system temp folder, deleted with everything in it on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "vigil-test")
    {
        Path = Directory.CreateTempSubdirectory(prefix + "-").FullName;
    }

    /// <summary>A fresh directory under <paramref name="parent"/> (another file system than the temp folder's).</summary>
    public TempDirectory(string prefix, string parent)
    {
        Path = Directory.CreateDirectory(System.IO.Path.Combine(parent, $"{prefix}-{Guid.NewGuid():N}")).FullName;
    }

    /// <summary>The directory's full path.</summary>
    public string Path { get; }

    /// <summary>A path inside the directory.</summary>
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Writes a file (creating its folders) and returns its full path.</summary>
    public string WriteFile(string relativePath, string content)
    {
        var full = Combine(relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A name that is not valid UTF-8 (the tests of such names make them) cannot be deleted through .NET's
            // string paths; rm works on the bytes. Best effort: a test that left a file open must not fail the next one.
            RemoveByBytes();
        }
    }

    private void RemoveByBytes()
    {
        try
        {
            using var rm = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("rm", ["-rf", "--", Path]) { RedirectStandardError = true });
            rm?.WaitForExit(10_000);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
        }
    }
}
