using System.Security.Cryptography;
using Vigil.Transport.Security;

namespace Vigil.Hosting;

/// <summary>
/// The enrollment password (authd.pass's role), never on the command line: a file given with --password-file, else
/// $VIGIL_ENROLL_PASSWORD, else (manager only) DATA/authd.pass, created with a random password (mode 0600) on first start.
/// </summary>
internal static class EnrollmentPassword
{
    public const string Variable = "VIGIL_ENROLL_PASSWORD";

    public static string? TryRead(FileInfo? file)
    {
        if (file is not null)
        {
            return File.ReadAllText(file.FullName).Trim();
        }

        return Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;
    }

    public static (string Password, string Source) ForManager(FileInfo? file, string dataDirectory)
    {
        if (TryRead(file) is { } password)
        {
            return (password, file?.FullName ?? $"${Variable}");
        }

        var path = Path.Combine(dataDirectory, "authd.pass");
        if (!File.Exists(path))
        {
            PemFiles.WritePrivate(path, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)) + "\n");
        }

        return (File.ReadAllText(path).Trim(), path);
    }
}
