using Vigil.Core;
using Vigil.Storage.Postgres;

namespace Vigil.Manager;

/// <summary>`--database`: the PostgreSQL several managers share, connected and migrated before anything starts; none by default.</summary>
internal sealed class SharedDatabase : IAsyncDisposable
{
    public PostgresDatabase? Database { get; private init; }

    /// <summary>Why the database cannot be used (already said in words for the user), or null.</summary>
    public string? Error { get; private init; }

    /// <summary>
    /// The database a manager uses, and the files of its passwords: --database with its options when given, else the
    /// <c>&lt;database&gt;</c> block of ossec.conf (its relative paths resolved against the home), else none. Origin
    /// is the line saying the block is used, when it is.
    /// </summary>
    public static (string? Url, FileInfo? PasswordFile, FileInfo? CaPasswordFile, string? Origin) Resolve(
        string? url, FileInfo? passwordFile, FileInfo? caPasswordFile, Vigil.Core.Configuration.OssecConfig config)
    {
        if (url is not null || config.Database is not { } block)
        {
            return (url, passwordFile, caPasswordFile, null);
        }

        static FileInfo? FileOf(string? path, Vigil.Core.Configuration.OssecConfig config) => path is null ? null : new FileInfo(config.ResolvePath(path));
        var password = passwordFile ?? FileOf(block.PasswordFile, config);
        var caPassword = caPasswordFile ?? FileOf(block.CaPasswordFile, config);
        return (block.Url, password, caPassword, $"vigil: shared database from <database> at {block.Source}");
    }

    /// <summary>The CA password: the file's first line, else $VIGIL_CA_PASSWORD, else none.</summary>
    public static string? ReadCaPassword(FileInfo? file)
    {
        if (file is not null)
        {
            try
            {
                return File.ReadAllText(file.FullName).TrimEnd('\r', '\n') is { Length: > 0 } password ? password : null;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new VigilException($"the CA password file: cannot read {file.FullName}: {ex.Message}", isFatal: true);
            }
        }

        return Environment.GetEnvironmentVariable(SharedCertificateAuthority.PasswordVariable) is { Length: > 0 } value ? value : null;
    }

    public static async Task<SharedDatabase> OpenAsync(string? url, FileInfo? passwordFile, CancellationToken cancellationToken, bool quiet = false)
    {
        if (url is null)
        {
            return new SharedDatabase();
        }

        PostgresDatabase? database = null;
        try
        {
            database = PostgresDatabase.Open(url, PostgresDatabase.ReadPassword(passwordFile));
            var found = await database.MigrateAsync(cancellationToken);
            var schema = found == PostgresSchema.LatestVersion
                ? $"schema version {found}"
                : found == 0 ? $"schema version {PostgresSchema.LatestVersion} created" : $"schema migrated from version {found} to {PostgresSchema.LatestVersion}";
            if (!quiet)
            {
                await Console.Out.WriteLineAsync($"vigil: shared database {database.Display} ({schema})");
            }

            return new SharedDatabase { Database = database };
        }
        catch (VigilException ex)
        {
            if (database is not null)
            {
                await database.DisposeAsync();
            }

            return new SharedDatabase { Error = ex.Message };
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
    }
}
