using System.Globalization;
using Npgsql;
using Vigil.Core;

namespace Vigil.Storage.Postgres;

/// <summary>
/// The shared PostgreSQL of several managers, from a <c>postgres://user@host:port/database</c> URL and a password
/// read from a file or the environment (never from the command line: a password inside the URL is refused).
/// A unix-socket directory is given as the host percent-encoded (<c>postgres://vigil@%2Frun%2Fpostgresql/vigil</c>)
/// or as <c>?host=/run/postgresql</c>.
/// </summary>
internal sealed class PostgresDatabase : IAsyncDisposable
{
    /// <summary>The environment variable read for the password when no file is given.</summary>
    public const string PasswordVariable = "VIGIL_DATABASE_PASSWORD";

    private PostgresDatabase(NpgsqlDataSource source, string display)
    {
        Source = source;
        Display = display;
    }

    public NpgsqlDataSource Source { get; }

    /// <summary>The URL without secrets, for logs and the start banner.</summary>
    public string Display { get; }

    public static bool IsPostgresUrl(string? value) =>
        value is not null && (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase));

    /// <summary>The connection string for a URL (see the class); a <see cref="VigilException"/> naming what is wrong.</summary>
    public static NpgsqlConnectionStringBuilder ParseUrl(string url, string? password)
    {
        // Parsed by hand: System.Uri refuses a percent-encoded socket directory as the host.
        var rest = IsPostgresUrl(url) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : null;
        if (rest is null)
        {
            throw new VigilException($"--database: '{Redact(url)}' is not a postgres://user@host:port/database URL", isFatal: true);
        }

        var query = "";
        if (rest.IndexOf('?', StringComparison.Ordinal) is var q and >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }

        var path = "";
        if (rest.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0)
        {
            path = rest[(slash + 1)..];
            rest = rest[..slash];
        }

        var builder = new NpgsqlConnectionStringBuilder();
        var userInfo = "";
        if (rest.LastIndexOf('@') is var at and >= 0)
        {
            userInfo = Uri.UnescapeDataString(rest[..at]);
            rest = rest[(at + 1)..];
        }

        if (userInfo.Contains(':', StringComparison.Ordinal))
        {
            throw new VigilException($"--database: the URL holds a password; put it in --database-password-file or ${PasswordVariable} instead (a command line is visible to every user)", isFatal: true);
        }

        builder.Username = userInfo.Length > 0 ? userInfo : "vigil";
        var port = 5432;
        if (rest.LastIndexOf(':') is var colon and >= 0 && !rest.EndsWith(']'))
        {
            if (!int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is <= 0 or > 65535)
            {
                throw new VigilException($"--database: '{rest[(colon + 1)..]}' is not a port", isFatal: true);
            }

            rest = rest[..colon];
        }

        var host = Uri.UnescapeDataString(rest).Trim('[', ']');
        builder.Host = host.Length > 0 ? host : "localhost";
        builder.Port = port;
        var database = Uri.UnescapeDataString(path);
        builder.Database = database.Length > 0 ? database : "vigil";
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(parts[0]);
            var value = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "";
            switch (key.ToLowerInvariant())
            {
                case "host":
                    builder.Host = value;
                    break;
                case "sslmode":
                    builder.SslMode = Enum.TryParse<SslMode>(value, ignoreCase: true, out var mode)
                        ? mode
                        : throw new VigilException($"--database: sslmode '{value}' is not one of {string.Join(", ", Enum.GetNames<SslMode>())}", isFatal: true);
                    break;
                case "password":
                    throw new VigilException($"--database: the URL holds a password; put it in --database-password-file or ${PasswordVariable} instead", isFatal: true);
                default:
                    throw new VigilException($"--database: unknown URL parameter '{key}' (known: host, sslmode)", isFatal: true);
            }
        }

        builder.Password = password;
        builder.ApplicationName = "vigil";
        builder.Timeout = 10;
        builder.CommandTimeout = 30;

        // Each manager keeps a few connections: analysis commits, the registry, LISTEN, the quota.
        builder.MaxPoolSize = 20;
        return builder;
    }

    /// <summary>The password: the file's first line when a file is given, else the environment variable, else none.</summary>
    public static string? ReadPassword(FileInfo? file)
    {
        if (file is not null)
        {
            try
            {
                return File.ReadAllText(file.FullName).TrimEnd('\r', '\n');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new VigilException($"--database-password-file: cannot read {file.FullName}: {ex.Message}", isFatal: true);
            }
        }

        return Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } value ? value : null;
    }

    public static PostgresDatabase Open(string url, string? password) => Open(ParseUrl(url, password));

    public static PostgresDatabase Open(NpgsqlConnectionStringBuilder builder)
    {
        var display = string.Create(CultureInfo.InvariantCulture, $"postgres://{builder.Username}@{(builder.Host?.StartsWith('/') == true ? Uri.EscapeDataString(builder.Host) : builder.Host)}:{builder.Port}/{builder.Database}");
        return new PostgresDatabase(NpgsqlDataSource.Create(builder), display);
    }

    /// <summary>Connects and creates or migrates the schema; a <see cref="VigilException"/> when that cannot be done.</summary>
    public async Task<int> MigrateAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await PostgresSchema.MigrateAsync(Source, cancellationToken);
        }
        catch (NpgsqlException ex) when (ex is not PostgresException { SqlState: PostgresErrorCodes.InsufficientPrivilege })
        {
            throw new VigilException($"database {Display}: {ex.Message}", isFatal: true, ex);
        }
        catch (PostgresException ex)
        {
            throw new VigilException($"database {Display}: {ex.MessageText} (the user needs to create tables in that database)", isFatal: true, ex);
        }
    }

    private static string Redact(string url)
    {
        var at = url.IndexOf('@', StringComparison.Ordinal);
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        return at > 0 && scheme > 0 && at > scheme ? string.Concat(url.AsSpan(0, scheme + 3), "…", url.AsSpan(at)) : url;
    }

    public ValueTask DisposeAsync() => Source.DisposeAsync();
}
