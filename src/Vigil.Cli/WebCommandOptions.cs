using System.CommandLine;
using Vigil.Hosting;
using Vigil.Manager;
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

    /// <summary>The web options (null with --no-web); false, with the reasons on stderr, for a bad address or port.</summary>
    public bool TryResolve(ParseResult parseResult, string dataDirectory, string commandName, out WebOptions? options)
    {
        var bound = HostSettings.TryBind<WebSettings>(
            s =>
            {
                s.Off = parseResult.GetValue(_off);
                s.Address = parseResult.GetValue(_address)!;
                s.Port = parseResult.GetValue(_port);
                s.CertificatePath = parseResult.GetValue(_certificate)?.FullName;
                s.CertificateKeyPath = parseResult.GetValue(_key)?.FullName;
            },
            [WebSettings.Validator],
            out var settings,
            out var failures);
        if (!bound)
        {
            Console.Error.WriteLine(string.Join('\n', failures.Select(f => $"{commandName}: {f}")));
            options = null;
            return false;
        }

        options = settings.ToOptions(dataDirectory);
        return true;
    }
}
