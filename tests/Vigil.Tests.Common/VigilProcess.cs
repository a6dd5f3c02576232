using System.Diagnostics;
using System.Text;

namespace Vigil.Tests.Common;

/// <summary>The real `vigil` program, run as a child process (built beside the test assembly's configuration).</summary>
public sealed class VigilProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    private VigilProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The path of vigil.dll built for the same configuration as the running tests.</summary>
    public static string DllPath { get; } = Path.GetFullPath(Path.Combine(
        AppContext.BaseDirectory, "..", "..", "Vigil.Cli", new DirectoryInfo(AppContext.BaseDirectory).Name, "vigil.dll"));

    /// <summary>Everything the process printed so far (stdout and stderr).</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    public int Id => _process.Id;

    /// <summary>
    /// Whether the process has exited; once it has, its output has also been read to the end (the output is read
    /// asynchronously, so without the wait the last lines could still be on their way when a test reads them).
    /// </summary>
    public bool HasExited
    {
        get
        {
            if (!_process.HasExited)
            {
                return false;
            }

            _process.WaitForExit();
            return true;
        }
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <c>dotnet vigil.dll ARGS</c> with VIGIL_HOME/VIGIL_DATA cleared unless given.</summary>
    public static VigilProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null) =>
        Start([], arguments, environment, workingDirectory);

    /// <summary>As above, through a launcher that ends by exec'ing its arguments (e.g. <c>unshare -m … sh -c '… exec "$@"'</c>), so the pid stays vigil's.</summary>
    public static VigilProcess Start(IReadOnlyList<string> launcher, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(launcher.Count > 0 ? launcher[0] : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
        };
        foreach (var part in launcher.Skip(1).Concat(launcher.Count > 0 ? ["dotnet"] : []))
        {
            info.ArgumentList.Add(part);
        }

        info.ArgumentList.Add(DllPath);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("VIGIL_HOME");
        info.Environment.Remove("VIGIL_DATA");
        info.Environment.Remove("VIGIL_VT_API_KEY");
        // Tests SIGKILL these processes: with diagnostics on, each would leave its debugger FIFOs in /tmp.
        info.Environment["DOTNET_EnableDiagnostics"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return new VigilProcess(Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start"));
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; throws with the output so far on timeout.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (deadline.Elapsed > timeout || _process.HasExited)
            {
                throw new TimeoutException($"'{text}' not printed within {timeout} (exited: {_process.HasExited}). Output:\n{Output}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Sends SIGINT (Ctrl-C) and waits for the process to exit; returns its exit code.</summary>
    public async Task<int> InterruptAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Kills the process at once (SIGKILL), as a crash or an OOM kill would, and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _output.AppendLine(line);
        }
    }
}
