namespace Vigil.Cli;

/// <summary>Exit codes of the `vigil` command, one per failure class.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>`vigil scan`: something malicious was found; `vigil config check`: errors were found.</summary>
    public const int Findings = 1;

    public const int Usage = 2;
    public const int ConfigError = 3;
    public const int IoError = 4;
}
