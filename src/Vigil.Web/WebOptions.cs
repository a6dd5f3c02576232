namespace Vigil.Web;

/// <summary>Where and how the manager serves its API and dashboard.</summary>
internal sealed record WebOptions
{
    /// <summary>The address Kestrel binds: loopback unless the operator says otherwise.</summary>
    public string ListenAddress { get; init; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = 5601;

    /// <summary>A PFX/PEM certificate for HTTPS; null serves plain HTTP on loopback.</summary>
    public string? CertificatePath { get; init; }

    public string? CertificateKeyPath { get; init; }

    /// <summary>The data directory; the users database is <c>web/users.db</c> under it.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>The first admin's password (from VIGIL_ADMIN_PASSWORD); when null one is generated and printed once.</summary>
    public string? InitialAdminPassword { get; init; }
}
