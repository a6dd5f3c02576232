using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Vigil.Tests.Common;

namespace Vigil.Benchmarks;

/// <summary>
/// What the scenarios that run vigil as child processes share: starting it through the launcher (as users run it, with
/// the runtime settings the launcher gives each role), a process's memory and cpu from /proc, a free port, an option.
/// </summary>
internal static class ChildProcesses
{
    /// <summary>
    /// `./vigil ARGS` with its output redirected; VIGIL_HOME, VIGIL_DATA and DOTNET_gcServer are left to the launcher.
    /// <paramref name="checkout"/> runs another checkout's launcher (a baseline build), this one's by default.
    /// </summary>
    public static ProcessStartInfo Launcher(IEnumerable<string> arguments, string? checkout = null)
    {
        var launcher = checkout is null ? RepositoryPaths.Get("vigil") : Path.Combine(checkout, "vigil");
        var info = new ProcessStartInfo(launcher) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("VIGIL_HOME");
        info.Environment.Remove("VIGIL_DATA");
        info.Environment.Remove("DOTNET_gcServer");
        return info;
    }

    /// <summary>
    /// Runs `./vigil --help` of <paramref name="checkout"/> (this one by default) once and waits: the launcher builds
    /// itself when its sources are newer than its build, and that must not happen inside a measure. False (with the
    /// launcher's output on stderr) when it fails.
    /// </summary>
    public static async Task<bool> EnsureBuiltAsync(string? checkout = null)
    {
        using var process = Process.Start(Launcher(["--help"], checkout))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode == 0)
        {
            return true;
        }

        await Console.Error.WriteLineAsync($"{Launcher([], checkout).FileName} --help failed ({process.ExitCode}): {await error}{await output}");
        return false;
    }

    /// <summary>A field of /proc/PID/status in KiB (VmRSS:, VmHWM:), 0 once the process is gone.</summary>
    public static long RssKb(int pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>utime + stime from /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The text after <paramref name="name"/> in <paramref name="args"/>, or null.</summary>
    public static string? TextOption(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    /// <summary>The integer after <paramref name="name"/> in <paramref name="args"/>, or <paramref name="fallback"/>.</summary>
    public static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
