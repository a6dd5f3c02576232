using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace Vigil.Fim.Probe;

/// <summary>
/// `run SCENARIO DIR`: prepares files on the tmpfs, starts the guard as a child process (same namespace), makes real
/// processes open and execute files, and prints one JSON object a line: each check, and every line the guard printed.
/// </summary>
internal static partial class Scenarios
{
    private static readonly TimeSpan s_processTimeout = TimeSpan.FromSeconds(30);
    private static readonly Lock s_output = new();

    public static int Run(string scenario, string directory)
    {
        if (Safety.Check(directory) is { } refusal)
        {
            Emit(new { problem = refusal });
            return 3;
        }

        var files = Files.Create(directory);
        switch (scenario)
        {
            case "block" or "audit":
                return Access(files, scenario);
            case "deadline-deny" or "deadline-allow":
                return Deadline(files, scenario == "deadline-deny" ? "deny" : "allow");
            case "flood-kill":
                return FloodKill(files);
            case "self-read":
                return SelfRead(files);
            case "overload":
                return Overload(files);
            case "clean-then-listed":
                return CleanThenListed(files);
            case "dies-dispatch" or "dies-work":
                return ThreadDies(files, scenario["dies-".Length..]);
            case "decide-error":
                return DecideError(files);
            case "yara-hold":
                return YaraHold(files);
            default:
                Emit(new { problem = $"unknown scenario {scenario}" });
                return 2;
        }
    }

    private static int Access(Files files, string mode)
    {
        // A deadline far beyond any answer, so that only a stuck guard hits it even on a loaded machine (the default
        // 250 ms is tested by the deadline scenarios): every decision here must come from the list.
        using var guard = GuardProcess.Start(files.Directory, "--mode", mode, "--list", files.List, "--deadline", "10000");
        if (!guard.WaitReady())
        {
            return 1;
        }

        Check("open-clean", Exec("/bin/cat", files.Clean));
        Check("open-listed", Exec("/bin/cat", files.Listed));
        Emit(new { check = "open-listed-direct", errno = DirectOpen(files.Listed) });
        Check("exec-clean", Exec(files.CleanTrue));
        Check("exec-listed", Exec(files.ListedTrue));
        Check("exec-listed-sh", Exec("/bin/sh", "-c", "exec \"$0\"", files.ListedTrue));
        guard.Stop();
        return 0;
    }

    private static int Deadline(Files files, string policy)
    {
        // An unknown binary's first execution waits for an engine that takes 3 s; the deadline is 150 ms.
        using var guard = GuardProcess.Start(
            files.Directory, "--mode", "block", "--list", files.List, "--hold-unknown-exec", "--slow-scan", "3000",
            "--deadline", "150", "--on-timeout", policy);
        if (!guard.WaitReady())
        {
            return 1;
        }

        Check("exec-unknown", Exec(files.CleanTrue));
        guard.Stop();
        return 0;
    }

    private static int FloodKill(Files files)
    {
        // Every verdict hangs for 60 s and the deadline is 120 s: only the guard's death can release the openers.
        var guard = GuardProcess.Start(files.Directory, "--mode", "block", "--slow-lookup", "60000", "--deadline", "120000", "--workers", "2");
        if (!guard.WaitReady())
        {
            guard.Dispose();
            return 1;
        }

        var openers = new List<Process>();
        for (var i = 0; i < 16; i++)
        {
            openers.Add(StartProcess("/bin/cat", files.Flood(i)));
        }

        var holding = guard.WaitFor("holding", TimeSpan.FromSeconds(20));
        // Bounded poll: the openers are waiting in the kernel for the guard's answer.
        var clock = Stopwatch.StartNew();
        var blocked = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            blocked = openers.Count(p => !p.HasExited && State(p.Id) is 'D' or 'S');
            if (blocked == openers.Count)
            {
                break;
            }

            Task.Delay(20).Wait();
        }

        var heldBeforeKill = openers.Count(p => !p.HasExited);
        var wasStillWaiting = clock.Elapsed;
        guard.Kill();
        clock.Restart();
        var exited = 0;
        var failed = 0;
        foreach (var opener in openers)
        {
            var left = TimeSpan.FromSeconds(10) - clock.Elapsed;
            if (left > TimeSpan.Zero && opener.WaitForExit(left))
            {
                exited++;
                failed += opener.ExitCode == 0 ? 0 : 1;
            }
            else
            {
                opener.Kill();
            }

            opener.Dispose();
        }

        var released = clock.Elapsed.TotalMilliseconds;
        // And the flood goes on after the kill: nothing is marked any more.
        var after = Enumerable.Range(0, 32).Select(i => Exec("/bin/cat", files.Flood(i % 16))).ToList();
        Emit(new
        {
            check = "flood-kill",
            holding,
            blocked,
            held = heldBeforeKill,
            waited_ms = wasStillWaiting.TotalMilliseconds,
            exited,
            failed,
            released_ms = released,
            after_ok = after.Count(r => r.Exit == 0),
            after_max_ms = after.Max(r => r.Milliseconds),
        });
        guard.Dispose();
        return 0;
    }

    private static int Overload(Files files)
    {
        // One worker held 20 s by a hanging verdict, a queue of one, a 60 s deadline: the third opener finds the
        // queue full and must be allowed at once.
        using var guard = GuardProcess.Start(files.Directory, "--mode", "block", "--workers", "1", "--queue", "1", "--slow-lookup", "20000", "--deadline", "60000");
        if (!guard.WaitReady())
        {
            return 1;
        }

        var held = StartProcess("/bin/cat", files.Flood(0));
        var holding = guard.WaitFor("holding", TimeSpan.FromSeconds(20));
        // Seven more at once: whichever comes first takes the one queue slot and waits; the six others find the
        // queue full and are allowed at once.
        var clock = Stopwatch.StartNew();
        var more = Enumerable.Range(1, 7).Select(i => StartProcess("/bin/cat", files.Flood(i))).ToList();
        var allowed = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(10) && allowed < 6)
        {
            allowed = more.Count(p => p.HasExited && p.ExitCode == 0);
            Task.Delay(10).Wait();
        }

        var allowedMilliseconds = clock.Elapsed.TotalMilliseconds;
        Emit(new
        {
            check = "overload",
            holding,
            held_running = !held.HasExited,
            allowed,
            still_waiting = more.Count(p => !p.HasExited),
            max_ms = allowedMilliseconds,
        });
        guard.Stop();
        foreach (var process in more.Append(held))
        {
            process.WaitForExit(TimeSpan.FromSeconds(30));
            process.Dispose();
        }

        return 0;
    }

    private static int CleanThenListed(Files files)
    {
        // Clean verdicts put an ignore mask on the inode; writing the listed content into the same file must clear it.
        var listedContent = File.ReadAllBytes(files.Listed); // before the guard, which would refuse this open
        using var guard = GuardProcess.Start(files.Directory, "--mode", "block", "--list", files.List, "--clean-unlisted");
        if (!guard.WaitReady())
        {
            return 1;
        }

        var target = files.Flood(3);
        Check("clean-first", Exec("/bin/cat", target));
        Check("clean-again", Exec("/bin/cat", target));
        File.WriteAllBytes(target, listedContent); // the same inode, now the listed content
        Check("listed-now", Exec("/bin/cat", target));
        guard.Stop();
        return 0;
    }

    private static int ThreadDies(Files files, string stage)
    {
        // Every verdict hangs for 60 s and the deadline is 120 s: when a thread of the guard dies, only failing open
        // releases the openers it holds. "dispatch" kills the reader, which then reads no event at all; "work" kills
        // the idle one of two workers while the other holds an opener.
        using var guard = GuardProcess.Start(
            files.Directory, "--mode", "block", "--list", files.List, "--slow-lookup", "60000", "--deadline", "120000", "--workers", "2",
            "--fault", stage + ":" + Path.GetFileName(files.Die));
        if (!guard.WaitReady())
        {
            return 1;
        }

        var held = Enumerable.Range(0, stage == "dispatch" ? 6 : 1).Select(i => StartProcess("/bin/cat", files.Flood(i))).ToList();
        var holding = guard.WaitFor("holding", TimeSpan.FromSeconds(20));
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5) && held.Any(p => p.HasExited || State(p.Id) is not ('D' or 'S')))
        {
            Task.Delay(20).Wait();
        }

        var heldBefore = held.Count(p => !p.HasExited);
        clock.Restart();
        var die = StartProcess("/bin/cat", files.Die);
        var openers = held.Append(die).ToList();
        var exited = 0;
        var failed = 0;
        foreach (var opener in openers)
        {
            var left = TimeSpan.FromSeconds(15) - clock.Elapsed;
            if (left > TimeSpan.Zero && opener.WaitForExit(left))
            {
                exited++;
                failed += opener.ExitCode == 0 ? 0 : 1;
            }
        }

        var released = clock.Elapsed.TotalMilliseconds;
        var stopped = guard.WaitForText("\"event\":\"stopped\"", TimeSpan.FromSeconds(10));
        // Nothing is held any more, listed content included: prevention stopped; the guard's process lives on.
        var after = Enumerable.Range(0, 16).Select(i => Exec("/bin/cat", files.Flood(i))).Append(Exec("/bin/cat", files.Listed)).ToList();
        Emit(new
        {
            check = "thread-dies",
            holding,
            held = heldBefore,
            exited,
            failed,
            released_ms = released,
            stopped,
            after_ok = after.Count(r => r.Exit == 0),
            after_max_ms = after.Max(r => r.Milliseconds),
            guard_alive = guard.IsAlive,
        });
        foreach (var opener in openers)
        {
            if (!opener.HasExited)
            {
                opener.Kill();
            }

            opener.Dispose();
        }

        guard.Stop();
        return 0;
    }

    private static int YaraHold(Files files)
    {
        // The rule lives outside the marked tmpfs (it holds the marker it matches), in a temp dir removed after.
        var rules = System.IO.Directory.CreateTempSubdirectory("vigil-probe-yara");
        try
        {
            var marker = string.Concat("VIGIL-PROBE-", "YARA-MARKER");
            var ruleFile = Path.Combine(rules.FullName, "probe.yar");
            File.WriteAllText(ruleFile, $"rule Vigil_Probe_Marker {{ strings: $m = \"{marker}\" condition: $m }}\n");
            var marked = Path.Combine(files.Directory, "bin", "true-marked");
            File.WriteAllBytes(marked, [.. File.ReadAllBytes("/bin/true"), .. System.Text.Encoding.ASCII.GetBytes(marker)]);
            File.SetUnixFileMode(marked, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
            using var guard = GuardProcess.Start(files.Directory, "--mode", "block", "--list", files.List, "--hold-unknown-exec", "--deadline", "2000", "--yara", ruleFile);
            if (!guard.WaitReady())
            {
                return 1;
            }

            Check("exec-marked", Exec(marked));
            Check("exec-unmatched", Exec(files.CleanTrue));
            Check("exec-unmatched-again", Exec(files.CleanTrue));
            Check("exec-listed", Exec(files.ListedTrue));
            guard.Stop();
            return 0;
        }
        finally
        {
            rules.Delete(recursive: true);
        }
    }

    private static int DecideError(Files files)
    {
        // The decision on one file throws, on_timeout is deny and the deadline 60 s: that open is refused at once by the
        // policy, and the guard goes on deciding the next ones.
        using var guard = GuardProcess.Start(
            files.Directory, "--mode", "block", "--list", files.List, "--on-timeout", "deny", "--deadline", "60000", "--workers", "1",
            "--fault", "decide:" + Path.GetFileName(files.Die));
        if (!guard.WaitReady())
        {
            return 1;
        }

        Check("error-open", Exec("/bin/cat", files.Die));
        Check("clean-after", Exec("/bin/cat", files.Clean));
        Check("listed-after", Exec("/bin/cat", files.Listed));
        Check("error-again", Exec("/bin/cat", files.Die));
        guard.Stop();
        return 0;
    }

    private static int SelfRead(Files files)
    {
        // One worker, a 10 s deadline: were Vigil's own open of a marked file not excluded, it would wait on itself.
        using var guard = GuardProcess.Start(files.Directory, "--mode", "block", "--workers", "1", "--deadline", "10000", "--read-marked", files.Clean);
        if (!guard.WaitReady())
        {
            return 1;
        }

        Check("open-while-self-read", Exec("/bin/cat", files.Flood(0)));
        guard.Stop();
        return 0;
    }

    private static char State(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
        }
        catch (IOException)
        {
            return '?';
        }
    }

    private static void Check(string name, Result result) => Emit(new
    {
        check = name,
        exit = result.Exit,
        errno = result.Errno,
        pid = result.Pid,
        ms = result.Milliseconds,
        stdout = result.Stdout,
        stderr = result.Stderr,
    });

    internal static void Emit(object value) => EmitRaw(JsonSerializer.Serialize(value));

    internal static void EmitRaw(string line)
    {
        lock (s_output)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }

    private static Process StartProcess(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.StandardOutput.ReadToEndAsync();
        process.StandardError.ReadToEndAsync();
        return process;
    }

    private static Result Exec(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (Win32Exception ex)
        {
            return new Result(-1, ex.NativeErrorCode, 0, clock.Elapsed.TotalMilliseconds, "", ex.Message);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(s_processTimeout))
            {
                process.Kill();
                return new Result(-2, 0, process.Id, clock.Elapsed.TotalMilliseconds, "", "timed out");
            }

            process.WaitForExit();
            return new Result(process.ExitCode, 0, process.Id, clock.Elapsed.TotalMilliseconds, stdout.Result, stderr.Result);
        }
    }

    private static int DirectOpen(string path)
    {
        var fd = Open(path, 0x80000);
        var errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        if (fd >= 0)
        {
            CloseFd(fd);
        }

        return errno;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseFd(int fd);

    private sealed record Result(int Exit, int Errno, int Pid, double Milliseconds, string Stdout, string Stderr);

    /// <summary>The files of a scenario: clean and listed contents, a copy of /bin/true (listed) and a changed copy (clean).</summary>
    private sealed record Files(string Directory, string Clean, string Listed, string CleanTrue, string ListedTrue, string List)
    {
        public string Flood(int i) => Path.Combine(Directory, "flood", $"f{i}.txt");

        /// <summary>The file a fault is injected for.</summary>
        public string Die => Path.Combine(Directory, "die.txt");

        public static Files Create(string directory)
        {
            var clean = Path.Combine(directory, "clean.txt");
            var listed = Path.Combine(directory, "listed.txt");
            var cleanTrue = Path.Combine(directory, "bin", "true-clean");
            var listedTrue = Path.Combine(directory, "bin", "true-listed");
            var list = Path.Combine(directory, "list.sha256");
            System.IO.Directory.CreateDirectory(Path.Combine(directory, "bin"));
            System.IO.Directory.CreateDirectory(Path.Combine(directory, "flood"));
            File.WriteAllText(clean, "a clean file\n");
            File.WriteAllText(Path.Combine(directory, "die.txt"), "a file whose decision fails\n");
            File.WriteAllText(listed, $"content whose hash is listed {Guid.NewGuid()}\n");
            var binTrue = File.ReadAllBytes("/bin/true");
            File.WriteAllBytes(listedTrue, binTrue);
            // Trailing bytes change the hash and not what the program does.
            File.WriteAllBytes(cleanTrue, [.. binTrue, .. "vigil-probe-clean"u8.ToArray()]);
            File.SetUnixFileMode(listedTrue, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
            File.SetUnixFileMode(cleanTrue, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
            for (var i = 0; i < 16; i++)
            {
                File.WriteAllText(Path.Combine(directory, "flood", $"f{i}.txt"), $"flood {i}\n");
            }

            File.WriteAllLines(list, [Sha256(listed), Sha256(listedTrue)]);
            return new Files(directory, clean, listed, cleanTrue, listedTrue, list);
        }

        private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
    }

    /// <summary>The guard as a child process: its stdout lines are relayed and kept for waits.</summary>
    private sealed class GuardProcess : IDisposable
    {
        private readonly Process _process;
        private readonly BlockingCollection<string> _lines = [];

        private GuardProcess(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    _lines.CompleteAdding();
                    return;
                }

                EmitRaw(e.Data);
                _lines.Add(e.Data);
            };
            _process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    Emit(new { guard_stderr = e.Data });
                }
            };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public static GuardProcess Start(string directory, params string[] options)
        {
            var self = Environment.ProcessPath!;
            var info = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                info.ArgumentList.Add(typeof(Scenarios).Assembly.Location);
            }

            info.ArgumentList.Add("guard");
            info.ArgumentList.Add(directory);
            foreach (var option in options)
            {
                info.ArgumentList.Add(option);
            }

            return new GuardProcess(Process.Start(info)!);
        }

        public bool WaitReady()
        {
            var ready = WaitFor("ready", TimeSpan.FromSeconds(30));
            if (!ready)
            {
                Emit(new { problem = "the guard did not report ready" });
            }

            return ready;
        }

        /// <summary>Waits for a line holding "KEY":true.</summary>
        public bool WaitFor(string key, TimeSpan timeout) => WaitForText($"\"{key}\":true", timeout);

        /// <summary>Waits for a line holding <paramref name="text"/>.</summary>
        public bool WaitForText(string text, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                if (!_lines.TryTake(out var line, timeout - clock.Elapsed))
                {
                    return false;
                }

                if (line.Contains(text, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Closes its stdin and waits for its last lines.</summary>
        public void Stop()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                Emit(new { problem = "the guard did not stop" });
                _process.Kill();
            }

            _process.WaitForExit();
        }

        public bool IsAlive => !_process.HasExited;

        public void Kill()
        {
            _process.Kill();
            _process.WaitForExit();
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }

            _process.Dispose();
            _lines.Dispose();
        }
    }
}
