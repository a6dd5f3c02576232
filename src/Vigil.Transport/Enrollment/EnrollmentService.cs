using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Vigil.Transport.Protocol;

namespace Vigil.Transport.Enrollment;

/// <summary>
/// authd's role: with the enrollment password, an agent gets an id, its certificate (signed from its own request,
/// so its key never leaves it) and the CA certificate it pins. Names follow Wazuh's rule (letters, digits, '.', '_',
/// '-'); a name already held by an active agent is refused.
/// </summary>
internal sealed class EnrollmentService(ManagerTransportContext context, ILogger<EnrollmentService> logger) : Protocol.Enrollment.EnrollmentBase
{
    public override Task<EnrollReply> Enroll(EnrollRequest request, ServerCallContext call)
    {
        var address = call.GetHttpContext().Connection.RemoteIpAddress?.ToString();
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(request.Password), Encoding.UTF8.GetBytes(context.Password)))
        {
            throw Refuse(address, StatusCode.PermissionDenied, "invalid password");
        }

        if (!IsValidName(request.Name))
        {
            throw Refuse(address, StatusCode.InvalidArgument, $"invalid agent name '{request.Name}'");
        }

        if (Core.VigilVersion.CannotServe(context.Version, request.Version) is { } mismatch)
        {
            throw Refuse(address, StatusCode.FailedPrecondition, mismatch);
        }

        X509Certificate2? issued = null;
        string? id;
        try
        {
            id = context.Registry.TryAdd(request.Name, address, request.Version, agentId =>
            {
                issued = context.Authority.SignAgent(request.CsrPem, agentId);
                return issued.GetCertHashString(HashAlgorithmName.SHA256);
            });
        }
        catch (CryptographicException)
        {
            throw Refuse(address, StatusCode.InvalidArgument, "invalid certificate signing request");
        }
        catch (Core.VigilException ex) when (!ex.IsFatal)
        {
            throw Refuse(address, StatusCode.Unavailable, ex.Message);
        }

        using var _ = issued;
        if (id is null || issued is null)
        {
            throw Refuse(address, StatusCode.AlreadyExists, $"an agent named '{request.Name}' is already enrolled");
        }

        TransportLog.AgentEnrolled(logger, id, request.Name, address);
        return Task.FromResult(new EnrollReply
        {
            AgentId = id,
            CertificatePem = issued.ExportCertificatePem(),
            CaCertificatePem = context.Authority.CertificatePem,
        });
    }

    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 128 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private RpcException Refuse(string? address, StatusCode code, string reason)
    {
        TransportLog.EnrollmentRefused(logger, address, reason);
        return new RpcException(new Status(code, reason));
    }
}
