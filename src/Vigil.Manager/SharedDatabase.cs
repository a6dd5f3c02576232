using Vigil.Core;
using Vigil.Storage.Postgres;

namespace Vigil.Manager;

/// <summary>`--database`: the PostgreSQL several managers share, connected and migrated before anything starts; none by default.</summary>
internal sealed class SharedDatabase : IAsyncDisposable
{
    public PostgresDatabase? Database { get; private init; }

    /// <summary>Why the database cannot be used (already said in words for the user), or null.</summary>
    public string? Error { get; private init; }

    /// <summary>The CA password: the file's first line, else $VIGIL_CA_PASSWORD, else none.</summary>
    public static string? ReadCaPassword(FileInfo? file)
    {
        if (file is not null)
        {
            return File.ReadAllText(file.FullName).TrimEnd('\r', '\n') is { Length: > 0 } password ? password : null;
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
