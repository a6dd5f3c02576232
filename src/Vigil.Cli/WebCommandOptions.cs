using System.CommandLine;
using Vigil.Core;
using Vigil.Web;

namespace Vigil.Cli;

/// <summary>The command-line options of the API and dashboard, shared by `vigil run` and `vigil manager`.</summary>
internal sealed class WebCommandOptions
{
    private readonly Option<string> _address = new("--web-address") { Description = "Address the API and dashboard listen on.", DefaultValueFactory = _ => "127.0.0.1" };
    private readonly Option<int> _port = new("--web-port") { Description = "Port of the API and dashboard (0: any free port).", DefaultValueFactory = _ => 5601 };
    private readonly Option<FileInfo?> _certificate = new("--web-cert") { Description = "Serve HTTPS with this certificate (PEM or PFX)." };
    private readonly Option<FileInfo?> _key = new("--web-key") { Description = "The PEM private key of --web-cert, when not in the same file." };
    private readonly Option<bool> _off = new("--no-web") { Description = "Do not serve the API and dashboard." };

    public void AddTo(Command command)
    {
        command.Options.Add(_address);
        command.Options.Add(_port);
        command.Options.Add(_certificate);
        command.Options.Add(_key);
        command.Options.Add(_off);
    }

    /// <summary>The web options (null with --no-web); false, with the reason on stderr, for a bad address or port.</summary>
    public bool TryResolve(ParseResult parseResult, string dataDirectory, string commandName, out WebOptions? options)
    {
        try
        {
            options = Resolve(parseResult, dataDirectory);
            return true;
        }
        catch (VigilException ex)
        {
            Console.Error.WriteLine($"{commandName}: {ex.Message}");
            options = null;
            return false;
        }
    }

    private WebOptions? Resolve(ParseResult parseResult, string dataDirectory)
    {
        if (parseResult.GetValue(_off))
        {
            return null;
        }

        var address = parseResult.GetValue(_address)!;
        if (address != "localhost" && !System.Net.IPAddress.TryParse(address, out _))
        {
            throw new VigilException($"--web-address {address}: expected an IP address");
        }

        var port = parseResult.GetValue(_port);
        if (port is < 0 or > 65535)
        {
            throw new VigilException($"--web-port {port}: expected 0 to 65535");
        }

        return new WebOptions
        {
            ListenAddress = address,
            Port = port,
            CertificatePath = parseResult.GetValue(_certificate)?.FullName,
            CertificateKeyPath = parseResult.GetValue(_key)?.FullName,
            DataDirectory = dataDirectory, // the users database goes under its web/ folder
            InitialAdminPassword = Environment.GetEnvironmentVariable("VIGIL_ADMIN_PASSWORD") is { Length: > 0 } password ? password : null,
        };
    }
}
