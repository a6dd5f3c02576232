using System.Text;
using Vigil.Core.Native;

namespace Vigil.Core.Configuration;

/// <summary>
/// Reads a configuration, rule or list file safely: only a regular file (not a device, FIFO or directory, which
/// could block or never end), of at most <see cref="MaxBytes"/>; the reason comes back as text, never an exception.
/// </summary>
public static class ConfigFile
{
    /// <summary>The largest configuration or rule file read: Wazuh's whole shipped ruleset is under 3 MiB.</summary>
    public const long MaxBytes = 32L << 20;

    /// <summary>The file's text, or null with <paramref name="error"/> saying why it cannot be used.</summary>
    public static string? TryReadText(string path, out string? error)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (FileStatus.TryGet(path, followLinks: true, out var errno) is not { } status)
        {
            error = errno == LibC.ENOENT ? "file not found" : $"cannot read the file: {LibC.Describe(errno)}";
            return null;
        }

        if (!status.IsRegularFile)
        {
            error = $"not a regular file ({Kind(status.Mode)}): only a regular file is read";
            return null;
        }

        if (status.Size > MaxBytes)
        {
            error = $"the file is {status.Size} bytes, more than the {MaxBytes >> 20} MiB a configuration or rule file may be";
            return null;
        }

        try
        {
            // A regular file never blocks its reader. The length is capped again while reading,
            // in case the file grows between the look and the read.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var buffer = new byte[Math.Min(status.Size, MaxBytes) + 1];
            var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (read > MaxBytes)
            {
                error = $"the file is more than the {MaxBytes >> 20} MiB a configuration or rule file may be";
                return null;
            }

            error = null;
            var text = new UTF8Encoding(false).GetString(buffer, 0, read);
            return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"cannot read the file: {e.Message}";
            return null;
        }
    }

    private static string Kind(uint mode) => (mode & LibC.S_IFMT) switch
    {
        LibC.S_IFDIR => "a directory",
        0x2000 => "a character device",
        0x6000 => "a block device",
        0x1000 => "a FIFO",
        0xC000 => "a socket",
        _ => "not a plain file",
    };
}
