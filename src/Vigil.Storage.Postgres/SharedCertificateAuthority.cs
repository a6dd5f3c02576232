using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Npgsql;
using NpgsqlTypes;
using Vigil.Core;
using Vigil.Transport.Security;

namespace Vigil.Storage.Postgres;

/// <summary>
/// The CA every manager on the database signs with and accepts agents by: one row of <c>ca_material</c>, the
/// certificate in PEM and the private key as encrypted PKCS#8 (AES-256-CBC, key from PBKDF2-SHA256 with 600,000
/// iterations over the CA password). The password comes from each manager's <c>--ca-password-file</c> and is never
/// in the database, so reading the database alone gives the certificate but not the key. The first manager
/// creates the CA (or uploads the one already in its data directory, so agents it enrolled keep working); the
/// others load it. The key stays in memory; only the certificate is written to DATA/ca/ca.crt.
/// </summary>
internal static class SharedCertificateAuthority
{
    private const int Iterations = 600_000;

    public const string PasswordVariable = "VIGIL_CA_PASSWORD";

    public static async Task<(CertificateAuthority Authority, string Origin)> LoadOrCreateAsync(
        PostgresDatabase database, string password, string localDirectory, string managerName, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await database.Source.OpenConnectionAsync(cancellationToken);
            var origin = "loaded from the shared database";
            if (await ReadAsync(connection, cancellationToken) is not { } stored)
            {
                var (certificatePem, keyPem, source) = LocalOrNew(localDirectory, time);
                using var key = ECDsa.Create();
                key.ImportFromPem(keyPem);
                var encrypted = key.ExportEncryptedPkcs8PrivateKey(password, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, Iterations));
                await using (var insert = new NpgsqlCommand(
                    "INSERT INTO ca_material(id, certificate_pem, encrypted_key, created_by) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
                    connection))
                {
                    insert.Parameters.Add(PostgresAgentDirectory.Text(certificatePem));
                    insert.Parameters.Add(new NpgsqlParameter { Value = encrypted, NpgsqlDbType = NpgsqlDbType.Bytea });
                    insert.Parameters.Add(PostgresAgentDirectory.Text(managerName));
                    origin = await insert.ExecuteNonQueryAsync(cancellationToken) > 0 ? source : origin;
                }

                // Another manager may have won the race: everyone uses the row that is there.
                stored = await ReadAsync(connection, cancellationToken) ?? throw new VigilException($"database {database.Display}: the CA could not be stored", isFatal: true);
            }

            var authority = Decrypt(stored.CertificatePem, stored.EncryptedKey, password, database.Display, time);
            PemFiles.WritePublic(Path.Combine(localDirectory, "ca.crt"), stored.CertificatePem);
            return (authority, origin);
        }
        catch (NpgsqlException ex)
        {
            throw new VigilException($"database {database.Display}: {ex.Message}", isFatal: true, ex);
        }
    }

    private static CertificateAuthority Decrypt(string certificatePem, byte[] encryptedKey, string password, string display, TimeProvider time)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportEncryptedPkcs8PrivateKey(password, encryptedKey, out _);
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw new VigilException($"database {display}: the CA password (--ca-password-file or ${PasswordVariable}) does not decrypt the shared CA key; every manager needs the password the first one was started with", isFatal: true);
        }

        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        using (key)
        {
            return new CertificateAuthority(certificate.CopyWithPrivateKey(key), time);
        }
    }

    private static (string CertificatePem, string KeyPem, string Origin) LocalOrNew(string directory, TimeProvider time)
    {
        var certificatePath = Path.Combine(directory, "ca.crt");
        var keyPath = Path.Combine(directory, "ca.key");
        if (File.Exists(certificatePath) && File.Exists(keyPath))
        {
            return (File.ReadAllText(certificatePath), File.ReadAllText(keyPath), $"uploaded from {keyPath}");
        }

        var (certificatePem, keyPem) = CertificateAuthority.CreatePem(time);
        return (certificatePem, keyPem, "created in the shared database");
    }

    private static async Task<(string CertificatePem, byte[] EncryptedKey)?> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT certificate_pem, encrypted_key FROM ca_material WHERE id = 1", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), await reader.GetFieldValueAsync<byte[]>(1, cancellationToken)) : null;
    }
}
