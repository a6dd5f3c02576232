namespace Vigil.Response.Quarantine;

/// <summary>Where quarantined files and their records live.</summary>
internal sealed record QuarantineOptions
{
    /// <summary>The name of the vault created at a filesystem's mount root for files on other filesystems.</summary>
    public const string PerFilesystemVaultName = ".vigil-quarantine";

    /// <summary>Vigil's data directory (<c>$VIGIL_HOME/.vigil</c>): the database, the main vault and the lock.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>
    /// Whether a file on another filesystem goes to a root-only vault at that filesystem's mount root (an atomic
    /// rename) rather than being copied into the main vault, fsynced and unlinked.
    /// </summary>
    public bool UsePerFilesystemVaults { get; init; } = true;

    /// <summary>How long a restored file stays exempt from removal when the operator does not say.</summary>
    public static readonly TimeSpan DefaultExemptionLifetime = TimeSpan.FromDays(30);

    public string MainVaultDirectory => Path.Combine(DataDirectory, "vault");

    public string DatabasePath => Path.Combine(DataDirectory, "quarantine.db");

    /// <summary>The per-file removal locks (flock), one empty file per path ever removed.</summary>
    public string LockDirectory => Path.Combine(DataDirectory, "remove-threat.locks");

    /// <summary>
    /// Serialises removals of one path across processes (flock), so two responses for one file cannot both act,
    /// while removals of other files go on (a large file being hashed holds only its own lock).
    /// </summary>
    public string LockPathFor(string path) =>
        Path.Combine(LockDirectory, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(path))) + ".lock");
}
