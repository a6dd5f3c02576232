using Vigil.Core.Prevention;

namespace Vigil.Fim.Fanotify;

/// <summary>What an alert of docs/prevention.md reports (rules 200800–200807).</summary>
internal enum PreventionAlertKind
{
    /// <summary>200800 / 200801: an open or an execution denied.</summary>
    Denied,

    /// <summary>200802: audit mode; the access would have been denied and was allowed.</summary>
    WouldDeny,

    /// <summary>200803: no decision by the deadline; the timeout policy answered.</summary>
    Deadline,

    /// <summary>200804: the queue was full (or the kernel's overflowed); accesses were allowed unchecked.</summary>
    Overload,

    /// <summary>200805: prevention could not start (or a directory could not be marked); detection goes on.</summary>
    Unavailable,

    /// <summary>200806: a thread of the guard ended; the guard failed open (allowed everything, closed its group).</summary>
    Stopped,

    /// <summary>200807: deciding on one access failed; the timeout policy answered.</summary>
    Error,
}

/// <summary>The process that made an access: pid, executable, command line and real uid (read from /proc while it waits).</summary>
internal sealed record ProcessIdentity(int Pid, string? Executable, string? CommandLine, int? Uid)
{
    public static ProcessIdentity Read(int pid)
    {
        var exe = FanotifyLibC.TryReadLink($"/proc/{pid}/exe");
        string? commandLine = null;
        int? uid = null;
        try
        {
            var bytes = File.ReadAllBytes($"/proc/{pid}/cmdline");
            var length = Math.Min(bytes.Length, 4096);
            commandLine = System.Text.Encoding.UTF8.GetString(bytes, 0, length).TrimEnd('\0').Replace('\0', ' ');
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    var fields = line[4..].Split('\t', StringSplitOptions.RemoveEmptyEntries);
                    uid = fields.Length > 0 && int.TryParse(fields[0], System.Globalization.CultureInfo.InvariantCulture, out var u) ? u : null;
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The process may have gone: the alert still names its pid.
        }

        return new ProcessIdentity(pid, exe, commandLine, uid);
    }
}

/// <summary>One prevention alert.</summary>
internal sealed record PreventionAlert(PreventionAlertKind Kind, string Decision)
{
    public bool IsExec { get; init; }

    public string? Path { get; init; }

    public string? Sha256 { get; init; }

    public PreventionVerdict Verdict { get; init; } = PreventionVerdict.Unknown;

    public PreventionMode Mode { get; init; }

    public ProcessIdentity? Process { get; init; }

    /// <summary>For overload and deadline alerts: how many accesses this alert stands for.</summary>
    public long Count { get; init; } = 1;

    public string? Detail { get; init; }

    public string Access => IsExec ? "exec" : "open";
}
