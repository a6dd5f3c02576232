using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Vigil.Tests.Common;

/// <summary>
/// A real PostgreSQL 15 server for one test class (Debian's postgresql-15): initdb and pg_ctl in a temporary
/// directory, on a free 127.0.0.1 port with its unix socket in that directory, password authentication
/// (scram-sha-256) for user "vigil". initdb refuses to run as root, so as root the server runs as the "postgres"
/// user, which is given the directory. Stopped and removed on dispose.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private readonly TempDirectory _directory;
    private readonly bool _asRoot = Environment.UserName == "root";

    private PostgresServer(TempDirectory directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string User => "vigil";

    public string Password { get; } = "pw-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The directory holding the server's unix socket.</summary>
    public string SocketDirectory => _directory.Path;

    public string DataDirectory => _directory.Combine("data");

    /// <summary>A file holding the password (mode 0600), for --database-password-file.</summary>
    public string PasswordFile => _directory.Combine("client.pass");

    public bool IsRunning { get; private set; }

    /// <summary>The URL of a database on this server over TCP (no password in it).</summary>
    public string Url(string database) => $"postgres://{User}@127.0.0.1:{Port}/{database}";

    public static async Task<PostgresServer> StartAsync()
    {
        if (!File.Exists(Path.Combine(BinDirectory, "initdb")))
        {
            throw new InvalidOperationException($"PostgreSQL 15 is not installed ({BinDirectory}/initdb): ./test installs postgresql-15");
        }

        var directory = new TempDirectory("vigil-pg");
        var server = new PostgresServer(directory, FreePort());
        try
        {
            await server.InitializeAsync();
            await server.StartServerAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates an empty database (named for the test) and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "t")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(40, prefix.Length + 33)].ToLowerInvariant();
        await PsqlAsync("postgres", $"CREATE DATABASE {name}");
        return name;
    }

    /// <summary>Runs one SQL statement with psql and returns its unaligned output.</summary>
    public async Task<string> PsqlAsync(string database, string sql)
    {
        var (code, output) = await RunAsync(
            Path.Combine(BinDirectory, "psql"),
            ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", SocketDirectory, "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", User, "-d", database, "-c", sql],
            asServer: false);
        return code == 0 ? output.Trim() : throw new InvalidOperationException($"psql failed ({code}): {output}");
    }

    /// <summary>Stops the server (fast shutdown: sessions are ended, as when an operator stops it).</summary>
    public async Task StopAsync()
    {
        await PgCtlAsync("stop", "-m", "fast", "-w");
        IsRunning = false;
    }

    /// <summary>Starts the stopped server again on the same port.</summary>
    public Task StartAgainAsync() => StartServerAsync();

    private async Task InitializeAsync()
    {
        var serverPassword = _directory.Combine("server.pass");
        File.WriteAllText(serverPassword, Password + "\n");
        File.WriteAllText(PasswordFile, Password + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(PasswordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        if (_asRoot)
        {
            var (chown, chownOutput) = await RunAsync("chown", ["postgres:postgres", _directory.Path, serverPassword], asServer: false);
            if (chown != 0)
            {
                throw new InvalidOperationException($"chown failed: {chownOutput}");
            }
        }

        var (code, output) = await RunAsync(
            Path.Combine(BinDirectory, "initdb"),
            ["-D", DataDirectory, "-U", User, "--auth=scram-sha-256", $"--pwfile={serverPassword}", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            asServer: true);
        if (code != 0)
        {
            throw new InvalidOperationException($"initdb failed ({code}): {output}");
        }
    }

    private async Task StartServerAsync()
    {
        // fsync off: a test server's data need not survive a power cut, and the machine is shared.
        var settings = $"-p {Port} -k {SocketDirectory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200";
        await PgCtlAsync("start", "-w", "-t", "60", "-l", Path.Combine(SocketDirectory, "server.log"), "-o", settings);
        IsRunning = true;
    }

    private async Task PgCtlAsync(params string[] arguments)
    {
        var (code, output) = await RunAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", DataDirectory, .. arguments], asServer: true);
        if (code != 0)
        {
            var log = Path.Combine(SocketDirectory, "server.log");
            throw new InvalidOperationException($"pg_ctl {arguments[0]} failed ({code}): {output}{(File.Exists(log) ? "\n" + File.ReadAllText(log) : "")}");
        }
    }

    private async Task<(int Code, string Output)> RunAsync(string program, IReadOnlyList<string> arguments, bool asServer)
    {
        var info = new ProcessStartInfo(asServer && _asRoot ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        if (asServer && _asRoot)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", program })
            {
                info.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["PGPASSWORD"] = Password;
        info.Environment["LC_ALL"] = "C.UTF-8";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish within 120 s");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (IsRunning)
        {
            try
            {
                await PgCtlAsync("stop", "-m", "immediate", "-w");
            }
            catch (InvalidOperationException)
            {
            }

            IsRunning = false;
        }

        _directory.Dispose();
    }
}
