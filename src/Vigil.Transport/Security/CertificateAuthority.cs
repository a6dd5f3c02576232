using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Vigil.Transport.Security;

/// <summary>
/// The manager's CA: created on first start under the manager's data directory (ca.crt, and ca.key with mode 0600),
/// it signs the manager's server certificate and each enrolled agent's client certificate. Agents pin it.
/// </summary>
internal sealed class CertificateAuthority(X509Certificate2 certificate, TimeProvider time) : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");

    /// <summary>The CA certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; } = certificate;

    public string CertificatePem => Certificate.ExportCertificatePem();

    public static CertificateAuthority LoadOrCreate(string directory, TimeProvider time)
    {
        var certificatePath = Path.Combine(directory, "ca.crt");
        var keyPath = Path.Combine(directory, "ca.key");
        if (File.Exists(certificatePath) && File.Exists(keyPath))
        {
            return new CertificateAuthority(X509Certificate2.CreateFromPemFile(certificatePath, keyPath), time);
        }

        Directory.CreateDirectory(directory);
        var (certificatePem, keyPem) = CreatePem(time);
        PemFiles.WritePrivate(keyPath, keyPem);
        PemFiles.WritePublic(certificatePath, certificatePem);
        return new CertificateAuthority(X509Certificate2.CreateFromPemFile(certificatePath, keyPath), time);
    }

    /// <summary>A new CA (ten years): its certificate and its PKCS#8 private key, as PEM.</summary>
    public static (string CertificatePem, string KeyPem) CreatePem(TimeProvider time)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Vigil manager CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = time.GetUtcNow();
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        return (created.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>A fresh server certificate for this run of the manager, for the given DNS names and addresses.</summary>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string> hosts)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Vigil manager", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (System.Net.IPAddress.TryParse(host, out var address))
            {
                names.AddIpAddress(address);
            }
            else
            {
                names.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth], false));
        var now = time.GetUtcNow();
        using var certificate = request.Create(Certificate, now.AddMinutes(-5), Within(now.AddYears(1)), RandomSerial());
        using var withKey = certificate.CopyWithPrivateKey(key);

        // Kestrel needs a key it can use from SslStream: round-trip through PKCS#12 to get a persisted one.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Signs an agent's certificate request (its key never leaves the agent): the subject is <c>CN=ID</c>.</summary>
    public X509Certificate2 SignAgent(string csrPem, string agentId)
    {
        var csr = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={agentId}"), csr.PublicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ClientAuth], false));
        var now = time.GetUtcNow();
        return request.Create(Certificate, now.AddMinutes(-5), Within(now.AddYears(10)), RandomSerial());
    }

    /// <summary>Whether <paramref name="certificate"/> chains to <paramref name="authority"/> (and only to it).</summary>
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2 authority)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        return chain.Build(certificate)
            && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(authority.RawDataMemory.Span);
    }

    /// <summary>The agent id a client certificate names (<c>CN=001</c>), or null.</summary>
    public static string? AgentIdOf(X509Certificate2 certificate)
    {
        var id = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return id is { Length: > 0 } && id.All(char.IsAsciiDigit) ? id : null;
    }

    // A certificate the CA issues may not outlive the CA.
    private DateTimeOffset Within(DateTimeOffset notAfter) =>
        notAfter < Certificate.NotAfter ? notAfter : new DateTimeOffset(Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);

    private static byte[] RandomSerial() => RandomNumberGenerator.GetBytes(16);

    public void Dispose() => Certificate.Dispose();
}

/// <summary>Writes PEM files atomically; private keys are created with mode 0600 from the start.</summary>
internal static class PemFiles
{
    public static void WritePrivate(string path, string pem) =>
        Write(path, pem, UnixFileMode.UserRead | UnixFileMode.UserWrite);

    public static void WritePublic(string path, string pem) =>
        Write(path, pem, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

    private static void Write(string path, string pem, UnixFileMode mode)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        File.Delete(temporary);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(pem);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
