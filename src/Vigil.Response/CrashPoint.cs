using System.Diagnostics;

namespace Vigil.Response;

/// <summary>
/// Named moments inside a removal where the process can be made to die as a SIGKILL would, for the crash tests:
/// with <c>VIGIL_CRASH_POINT=&lt;name&gt;</c> in its environment, the process kills itself (SIGKILL) when it reaches
/// that moment. The windows they land in (a file moved, its record not yet complete) are too short for a timed kill
/// to hit reliably. Unset, nothing happens.
/// </summary>
internal static class CrashPoint
{
    public const string Variable = "VIGIL_CRASH_POINT";

    /// <summary>The file is in the vault; its quarantine record is still pending.</summary>
    public const string QuarantineMoved = "quarantine-moved";

    /// <summary>The quarantine record is complete; the AR log has neither the outcome line nor the record's line.</summary>
    public const string RemovalRecorded = "removal-recorded";

    private static readonly string? s_armed = Environment.GetEnvironmentVariable(Variable);

    public static void Reach(string name)
    {
        if (s_armed is not null && string.Equals(s_armed, name, StringComparison.Ordinal))
        {
            using var self = Process.GetCurrentProcess();
            self.Kill();
        }
    }
}
