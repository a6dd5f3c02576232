using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Vigil.Core;

namespace Vigil.Tests.Common;

/// <summary>
/// A real clamd (Debian's clamav-daemon) run in the foreground on a temporary unix socket and a loopback TCP port,
/// with a signature database written here: the EICAR file by MD5 (.hdb) and a webshell-like string (.ndb). Nothing is
/// downloaded (withEicar false leaves the .hdb out, so that only the webshell string is ClamAV's). Stop and Start may be called again (clamd down mid-run); Dispose stops it and removes its directory.
/// </summary>
public sealed class ClamdProcess : IAsyncDisposable
{
    /// <summary>The signature name clamd gives the EICAR file (ClamAV appends .UNOFFICIAL to local signatures).</summary>
    public const string EicarSignature = "Vigil.Test.Eicar.HDB.UNOFFICIAL";

    public const string WebshellSignature = "Vigil.Test.Webshell.NDB.UNOFFICIAL";

    /// <summary>The string the .ndb signature matches.</summary>
    public const string WebshellMarker = "vigil-test-webshell:system($_GET[";

    private readonly TempDirectory _directory = new("vigil-clamd");
    private Process? _process;
    private readonly StringBuilder _log = new();

    private ClamdProcess(long streamMaxLength, bool withEicar)
    {
        Directory.CreateDirectory(DatabaseDirectory);
        if (withEicar)
        {
            File.WriteAllText(Path.Combine(DatabaseDirectory, "vigil-test.hdb"),
                $"{Convert.ToHexStringLower(MD5.HashData(Eicar.Bytes))}:{Eicar.Bytes.Length}:Vigil.Test.Eicar.HDB\n");
        }

        File.WriteAllText(Path.Combine(DatabaseDirectory, "vigil-test.ndb"),
            $"Vigil.Test.Webshell.NDB:0:*:{Convert.ToHexStringLower(Encoding.ASCII.GetBytes(WebshellMarker))}\n");
        Port = FreePort();
        File.WriteAllText(ConfPath, $"""
            DatabaseDirectory {DatabaseDirectory}
            Foreground yes
            LocalSocket {SocketPath}
            FixStaleSocket yes
            TCPSocket {Port}
            TCPAddr 127.0.0.1
            StreamMaxLength {streamMaxLength}
            MaxThreads 4
            SelfCheck 0
            PidFile {_directory.Combine("clamd.pid")}
            """);
    }

    public string ConfPath => _directory.Combine("clamd.conf");

    public string SocketPath => _directory.Combine("clamd.sock");

    public string DatabaseDirectory => _directory.Combine("db");

    public int Port { get; }

    /// <summary>The running clamd's process id (null while stopped).</summary>
    public int? ProcessId => _process?.Id;

    /// <summary>What clamd printed (its log, in the foreground).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts clamd and waits until it answers PING (bounded).</summary>
    public static async Task<ClamdProcess> StartAsync(long streamMaxLength = 25 * 1024 * 1024, bool withEicar = true)
    {
        var clamd = new ClamdProcess(streamMaxLength, withEicar);
        await clamd.StartAsync();
        return clamd;
    }

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo(File.Exists("/usr/sbin/clamd") ? "/usr/sbin/clamd" : "clamd")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(ConfPath);
        var process = Process.Start(start) ?? throw new InvalidOperationException("clamd did not start");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"clamd exited with {process.ExitCode}: {Log}");
            }

            if (await TryPingAsync())
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"clamd did not answer PING within 30 s: {Log}");
    }

    /// <summary>Stops clamd (SIGTERM, then SIGKILL after 10 s) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is not { } process)
        {
            return;
        }

        _process = null;
        if (!process.HasExited)
        {
            Process.Start("kill", ["-CONT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit(); // a paused clamd ends too
            Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
        }

        process.Dispose();
        File.Delete(SocketPath);
    }

    /// <summary>Kills clamd (SIGKILL: no shutdown of its own, its connections drop as they are) and waits for it.</summary>
    public async Task KillAsync()
    {
        if (_process is not { } process)
        {
            return;
        }

        _process = null;
        process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
        File.Delete(SocketPath);
    }

    /// <summary>Freezes clamd (SIGSTOP): it holds its connections and answers nothing until <see cref="Resume"/>.</summary>
    public void Pause() => Signal("-STOP");

    /// <summary>Lets a paused clamd go on (SIGCONT).</summary>
    public void Resume() => Signal("-CONT");

    private void Signal(string signal)
    {
        if (_process is { HasExited: false } process)
        {
            Process.Start("kill", [signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _directory.Dispose();
    }

    private async Task<bool> TryPingAsync()
    {
        if (!File.Exists(SocketPath))
        {
            return false;
        }

        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
            await socket.SendAsync("zPING\0"u8.ToArray(), SocketFlags.None);
            var buffer = new byte[16];
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
