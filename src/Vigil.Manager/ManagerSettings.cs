using System.Net;
using Microsoft.Extensions.Options;
using Vigil.Hosting;
using Vigil.Storage.Postgres;
using Vigil.Web;

namespace Vigil.Manager;

/// <summary>`vigil manager`'s own settings as its command line gives them, bound and checked at start (<see cref="HostSettings"/>).</summary>
internal sealed class ManagerSettings
{
    /// <summary>--listen: the address the agent and enrollment ports listen on.</summary>
    public string Listen { get; set; } = "127.0.0.1";

    /// <summary>--database, if given.</summary>
    public string? Database { get; set; }

    /// <summary>The shared CA key's password (--ca-password-file, else its variable), if any.</summary>
    public string? CaPassword { get; set; }

    public IPAddress ListenAddress => IPAddress.Parse(Listen);

    public static IValidateOptions<ManagerSettings> Validator { get; } = HostSettings.Validator<ManagerSettings>(Failures);

    private static IEnumerable<string> Failures(ManagerSettings settings)
    {
        if (!IPAddress.TryParse(settings.Listen, out _))
        {
            yield return "--listen must be an IP address";
        }

        if (settings.Database is not null && settings.CaPassword is null)
        {
            yield return $"--database needs the CA password: --ca-password-file (<ca_password_file> of <database>) or ${SharedCertificateAuthority.PasswordVariable}";
        }
    }
}

/// <summary>The API and dashboard's settings (`vigil run`, `vigil manager`) as the command line gives them, bound and checked at start.</summary>
internal sealed class WebSettings
{
    /// <summary>--no-web.</summary>
    public bool Off { get; set; }

    public string Address { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 5601;

    public string? CertificatePath { get; set; }

    public string? CertificateKeyPath { get; set; }

    public static IValidateOptions<WebSettings> Validator { get; } = HostSettings.Validator<WebSettings>(Failures);

    /// <summary>The web server's options (null with --no-web); its users database goes under the data directory's web/ folder.</summary>
    public WebOptions? ToOptions(string dataDirectory) => Off
        ? null
        : new WebOptions
        {
            ListenAddress = Address,
            Port = Port,
            CertificatePath = CertificatePath,
            CertificateKeyPath = CertificateKeyPath,
            DataDirectory = dataDirectory,
            InitialAdminPassword = Environment.GetEnvironmentVariable("VIGIL_ADMIN_PASSWORD") is { Length: > 0 } password ? password : null,
        };

    private static IEnumerable<string> Failures(WebSettings settings)
    {
        if (settings.Off)
        {
            yield break;
        }

        if (settings.Address != "localhost" && !IPAddress.TryParse(settings.Address, out _))
        {
            yield return $"--web-address {settings.Address}: expected an IP address";
        }

        if (settings.Port is < 0 or > 65535)
        {
            yield return $"--web-port {settings.Port}: expected 0 to 65535";
        }
    }
}
