using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Vigil.Transport.Protocol;
using Vigil.Transport.Security;

namespace Vigil.Transport.Agent;

/// <summary>
/// The agent's identity on disk (client.keys' role), under <c>DATA/agent/</c>: agent.json (id, name, manager),
/// agent.key (mode 0600, made here and never sent), agent.crt (signed by the manager's CA) and ca.crt (pinned).
/// </summary>
internal sealed record AgentCredentials(string Id, string Name, string Manager, X509Certificate2 Certificate, X509Certificate2 Authority)
{
    private sealed record IdentityFile(string Id, string Name, string Manager);

    public static string DirectoryUnder(string dataDirectory) => Path.Combine(dataDirectory, "agent");

    public static AgentCredentials? TryLoad(string dataDirectory)
    {
        var directory = DirectoryUnder(dataDirectory);
        var identityPath = Path.Combine(directory, "agent.json");
        if (!File.Exists(identityPath))
        {
            return null;
        }

        var identity = JsonSerializer.Deserialize<IdentityFile>(File.ReadAllText(identityPath)) ?? throw new InvalidDataException($"{identityPath} is empty");
        using var pem = X509Certificate2.CreateFromPemFile(Path.Combine(directory, "agent.crt"), Path.Combine(directory, "agent.key"));

        // SslStream wants a key it can hand to the TLS library as is: round-trip through PKCS#12.
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var authority = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(directory, "ca.crt"));
        return new AgentCredentials(identity.Id, identity.Name, identity.Manager, certificate, authority);
    }

    /// <summary>
    /// Enrolls with the manager's enrollment endpoint. With <paramref name="trustedAuthority"/> the manager's
    /// certificate must chain to it; without, the first answer is trusted (as agent-auth does without -v) and the CA
    /// fingerprint is returned for the operator to compare with `vigil manager`'s.
    /// </summary>
    public static async Task<(string Id, string CaFingerprint)> EnrollAsync(
        string enrollmentEndpoint,
        string agentEndpoint,
        string name,
        string password,
        string dataDirectory,
        X509Certificate2? trustedAuthority,
        CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        using var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    trustedAuthority is null || (certificate is not null && CertificateAuthority.IsIssuedBy(AsCertificate2(certificate), trustedAuthority)),
            },
        };
        using var channel = GrpcChannel.ForAddress($"https://{enrollmentEndpoint}", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        var client = new Protocol.Enrollment.EnrollmentClient(channel);
        var reply = await client.EnrollAsync(
            new EnrollRequest { Name = name, Password = password, CsrPem = csr, Version = Core.VigilVersion.Current },
            cancellationToken: cancellationToken);

        using var authority = X509Certificate2.CreateFromPem(reply.CaCertificatePem);
        using var issued = X509Certificate2.CreateFromPem(reply.CertificatePem);
        if (trustedAuthority is not null && !authority.RawDataMemory.Span.SequenceEqual(trustedAuthority.RawDataMemory.Span))
        {
            throw new AuthenticationFailedException("the manager answered with a CA other than the one given");
        }

        if (!CertificateAuthority.IsIssuedBy(issued, authority) || CertificateAuthority.AgentIdOf(issued) != reply.AgentId)
        {
            throw new AuthenticationFailedException("the manager's answer is inconsistent (certificate not issued by its CA)");
        }

        var directory = DirectoryUnder(dataDirectory);
        PemFiles.WritePrivate(Path.Combine(directory, "agent.key"), key.ExportPkcs8PrivateKeyPem());
        PemFiles.WritePublic(Path.Combine(directory, "agent.crt"), reply.CertificatePem);
        PemFiles.WritePublic(Path.Combine(directory, "ca.crt"), reply.CaCertificatePem);
        PemFiles.WritePublic(Path.Combine(directory, "agent.json"), JsonSerializer.Serialize(new IdentityFile(reply.AgentId, name, agentEndpoint)));
        return (reply.AgentId, Convert.ToHexString(SHA256.HashData(authority.RawData)).ToLower(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The TLS settings of the agent's channel: its certificate, and the manager's pinned to the CA. A manager whose
    /// certificate does not chain to that CA (an impostor on the manager's address) is refused and, with a logger, logged.
    /// </summary>
    public SocketsHttpHandler CreateHandler(ILogger? logger = null, string? manager = null) => new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(10),
        // A manager that goes silent (frozen, a cable pulled) is left after at most about 8 s: a ping once 3 s pass
        // without a frame from it, unanswered for 5 s. A manager answers pings on its connection's I/O, apart from its
        // analysis.
        KeepAlivePingDelay = TimeSpan.FromSeconds(3),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
        SslOptions = new SslClientAuthenticationOptions
        {
            ClientCertificates = [Certificate],
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is not null && CertificateAuthority.IsIssuedBy(AsCertificate2(certificate), Authority))
                {
                    return true;
                }

                if (logger is not null)
                {
                    TransportLog.ManagerCertificateRefused(logger, manager ?? Manager, certificate?.Subject ?? "(none)", Convert.ToHexStringLower(SHA256.HashData(Authority.RawData)));
                }

                return false;
            },
        },
    };

    private static X509Certificate2 AsCertificate2(X509Certificate certificate) =>
        certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
}

/// <summary>Enrollment failed: the manager could not be trusted or refused.</summary>
internal sealed class AuthenticationFailedException(string message) : Exception(message);
