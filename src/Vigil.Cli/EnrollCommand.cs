using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Vigil.Hosting;
using Vigil.Transport.Agent;

namespace Vigil.Cli;

/// <summary>`vigil enroll`: agent-auth's role. The password comes from --password-file or $VIGIL_ENROLL_PASSWORD, never argv.</summary>
internal static class EnrollCommand
{
    public static void AddTo(RootCommand root)
    {
        var paths = new HomeOptions();
        var manager = new Option<string>("--manager") { Description = "HOST:PORT of the manager's enrollment port (e.g. 127.0.0.1:1515).", Required = true };
        var name = new Option<string>("--name") { Description = "This agent's name (letters, digits, '.', '_', '-').", DefaultValueFactory = _ => Environment.MachineName };
        var agentPort = new Option<int>("--agent-port") { Description = "The manager's agent port, saved for `vigil agent`.", DefaultValueFactory = _ => 1514 };
        var passwordFile = new Option<FileInfo?>("--password-file") { Description = "File holding the enrollment password (default: $VIGIL_ENROLL_PASSWORD)." };
        var managerCa = new Option<FileInfo?>("--manager-ca") { Description = "The manager's CA certificate: verify the manager with it (default: trust the first answer and print its fingerprint)." };
        var command = new Command("enroll", "Enroll this agent with a manager: get an id and a client certificate signed by the manager's CA.")
        {
            manager, name, agentPort, passwordFile, managerCa,
        };
        paths.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (EnrollmentPassword.TryRead(parseResult.GetValue(passwordFile)) is not { } password)
            {
                await Console.Error.WriteLineAsync($"vigil enroll: no password (give --password-file or set ${EnrollmentPassword.Variable})");
                return ExitCodes.Usage;
            }

            var endpoint = parseResult.GetValue(manager)!;
            var host = endpoint.LastIndexOf(':') is var colon and > 0 ? endpoint[..colon] : endpoint;
            var data = paths.ResolveDataDir(parseResult);
            using var trusted = parseResult.GetValue(managerCa) is { } caFile ? X509CertificateLoader.LoadCertificateFromFile(caFile.FullName) : null;
            try
            {
                var (id, fingerprint) = await AgentCredentials.EnrollAsync(
                    endpoint, $"{host}:{parseResult.GetValue(agentPort)}", parseResult.GetValue(name)!, password, data, trusted, cancellationToken);
                await Console.Out.WriteLineAsync($"vigil: enrolled as agent {id} ({parseResult.GetValue(name)}); identity in {AgentCredentials.DirectoryUnder(data)}");
                await Console.Out.WriteLineAsync($"vigil: manager CA sha256 {fingerprint}{(trusted is null ? " (compare with the one `vigil manager` prints)" : " (verified)")}");
                return ExitCodes.Success;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                await Console.Error.WriteLineAsync($"vigil enroll: {Transport.RpcMessages.Describe(ex, endpoint)}");
                return ExitCodes.IoError;
            }
            catch (RpcException ex)
            {
                // The manager answered and said no (a wrong password, a name it refuses): what was given must change.
                await Console.Error.WriteLineAsync($"vigil enroll: refused by {endpoint}: {ex.Status.Detail}");
                return ExitCodes.ConfigError;
            }
            catch (AuthenticationFailedException ex)
            {
                await Console.Error.WriteLineAsync($"vigil enroll: {ex.Message}");
                return ExitCodes.IoError;
            }
        });
        root.Subcommands.Add(command);
    }
}
