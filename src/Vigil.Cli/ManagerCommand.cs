using System.CommandLine;
using Vigil.Core;
using Vigil.Hosting;
using Vigil.Manager;
using Vigil.Transport;

namespace Vigil.Cli;

/// <summary>`vigil manager`: analysis, alerts, intelligence and active-response routing for enrolled agents.</summary>
internal static class ManagerCommand
{
    public static void AddTo(RootCommand root)
    {
        var paths = new HomeOptions();
        var configOption = new Option<string?>("--config") { Description = "The ossec.conf to run (default: config/ossec.conf under the Vigil home)." };
        var listen = new Option<string>("--listen") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port for agents (mutual TLS).", DefaultValueFactory = _ => 1514 };
        var enrollmentPort = new Option<int>("--enrollment-port") { Description = "Port for enrollment (TLS, password).", DefaultValueFactory = _ => 1515 };
        var passwordFile = new Option<FileInfo?>("--password-file") { Description = "File holding the enrollment password (default: $VIGIL_ENROLL_PASSWORD, else <data>/authd.pass, created on first start)." };
        var logJson = new Option<bool>("--log-json") { Description = "Write logs as JSON." };
        var responseDeadline = new Option<int>("--response-deadline")
        {
            Description = "Seconds an active response waits in an agent's outbox for the agent to carry it out before rule 200403 says it was not delivered.",
            DefaultValueFactory = _ => 600,
        };
        responseDeadline.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() <= 0)
            {
                r.AddError("--response-deadline must be a positive number of seconds");
            }
        });
        var database = new Option<string?>("--database")
        {
            Description = "Share the agent registry, CA, watermarks, VirusTotal quota and verdict cache with other managers in PostgreSQL: postgres://user@host:port/database (default: SQLite under the data directory, this manager alone).",
        };
        var databasePasswordFile = new Option<FileInfo?>("--database-password-file")
        {
            Description = $"File holding the database password (default: ${Vigil.Storage.Postgres.PostgresDatabase.PasswordVariable}); never put it in the URL.",
        };
        var caPasswordFile = new Option<FileInfo?>("--ca-password-file")
        {
            Description = $"With --database: file holding the password that encrypts the shared CA key in the database (default: ${Vigil.Storage.Postgres.SharedCertificateAuthority.PasswordVariable}); the same on every manager.",
        };
        var command = new Command("manager", "Run the manager: agents connect to it over mutual TLS; it analyses, alerts and responds.")
        {
            configOption, listen, port, enrollmentPort, passwordFile, logJson, responseDeadline, database, databasePasswordFile, caPasswordFile,
        };
        paths.AddTo(command);
        var web = new WebCommandOptions();
        web.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var home = paths.ResolveHome(parseResult);
            using var diagnosticLog = DiagnosticLog.Start(paths.ResolveDataDir(parseResult), TimeProvider.System);
            var (config, rules, diagnostics) = ConfigLoading.Load(parseResult.GetValue(configOption), null, home);
            ConfigLoading.Print(diagnostics, Console.Error);
            if (ConfigLoading.HasErrors(diagnostics))
            {
                await Console.Error.WriteLineAsync("vigil manager: the configuration has errors (see above); nothing was started");
                return ExitCodes.ConfigError;
            }

            // --database and its files win over ossec.conf's <database> block; either way no secret is on the command line.
            var (databaseUrl, databasePasswordSource, caPasswordSource, databaseOrigin) = SharedDatabase.Resolve(
                parseResult.GetValue(database), parseResult.GetValue(databasePasswordFile), parseResult.GetValue(caPasswordFile), config);
            if (databaseOrigin is not null)
            {
                await Console.Out.WriteLineAsync(databaseOrigin);
            }

            string? caPassword;
            try
            {
                caPassword = SharedDatabase.ReadCaPassword(caPasswordSource);
            }
            catch (VigilException ex)
            {
                await Console.Error.WriteLineAsync($"vigil manager: {ex.Message}");
                return ExitCodes.ConfigError;
            }

            var bound = HostSettings.TryBind<ManagerSettings>(
                s =>
                {
                    s.Listen = parseResult.GetValue(listen)!;
                    s.Database = databaseUrl;
                    s.CaPassword = caPassword;
                },
                [ManagerSettings.Validator],
                out var settings,
                out var failures);
            if (!bound)
            {
                await Console.Error.WriteLineAsync(string.Join('\n', failures.Select(f => $"vigil manager: {f}")));
                return ExitCodes.Usage;
            }

            var data = paths.ResolveDataDir(parseResult);
            if (!web.TryResolve(parseResult, data, "vigil manager", out var webOptions))
            {
                return ExitCodes.Usage;
            }

            Directory.CreateDirectory(data);
            var (password, source) = EnrollmentPassword.ForManager(parseResult.GetValue(passwordFile), data);
            var options = new ManagerTransportOptions
            {
                ListenAddress = settings.ListenAddress,
                AgentPort = parseResult.GetValue(port),
                EnrollmentPort = parseResult.GetValue(enrollmentPort),
                DataDirectory = data,
                Password = password,
            };
            await using var shared = await SharedDatabase.OpenAsync(databaseUrl, databasePasswordSource, cancellationToken);
            if (shared.Error is { } databaseError)
            {
                await Console.Error.WriteLineAsync($"vigil manager: {databaseError}");
                return ExitCodes.ConfigError;
            }

            await ManagerRun.RunManagerAsync(
                new ManagerRunSettings(config, rules, new AllInOnePaths(home, data), options, webOptions, source)
                {
                    LogJson = parseResult.GetValue(logJson),
                    ResponseDeadline = TimeSpan.FromSeconds(parseResult.GetValue(responseDeadline)),
                    SharedDatabase = shared.Database,
                    CaPassword = caPassword,
                },
                cancellationToken);
            return ExitCodes.Success;
        });
        root.Subcommands.Add(command);
    }
}
