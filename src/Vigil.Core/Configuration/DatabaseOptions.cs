namespace Vigil.Core.Configuration;

/// <summary>
/// Vigil's <c>&lt;database&gt;</c> block of a manager's ossec.conf: the PostgreSQL several managers share (the same as
/// <c>vigil manager --database URL --database-password-file F --ca-password-file F</c>, which win over it). It holds
/// no secret: the passwords are read from the files it names, else from the environment.
/// </summary>
public sealed record DatabaseOptions
{
    /// <summary><c>&lt;url&gt;</c>: <c>postgres://USER@HOST:PORT/DATABASE</c>, without a password.</summary>
    public string Url { get; init; } = "";

    /// <summary><c>&lt;password_file&gt;</c>: the file whose first line is the database password, if any.</summary>
    public string? PasswordFile { get; init; }

    /// <summary><c>&lt;ca_password_file&gt;</c>: the file whose first line is the shared CA's password, if any.</summary>
    public string? CaPasswordFile { get; init; }

    /// <summary>Where the block is.</summary>
    public SourceLocation? Source { get; init; }
}
