namespace Vigil.Response.Execd;

/// <summary>How one AR message ended.</summary>
internal enum ExecdOutcome
{
    /// <summary>The program ran and exited within its limit.</summary>
    Completed,

    /// <summary>The message is not an AR message (not JSON, no command).</summary>
    InvalidMessage,

    /// <summary>The wire name matched no configured active response, or its program does not exist.</summary>
    UnknownCommand,

    /// <summary>The executable would resolve outside <c>active-response/bin</c>.</summary>
    Refused,

    /// <summary>The program could not be started.</summary>
    StartFailed,

    /// <summary>The program did not finish within the run time limit; its process tree was killed.</summary>
    Killed,
}

/// <summary>One AR run: the outcome, the answer sent to <c>check_keys</c> (null when none), the repeat key and the exit code.</summary>
internal sealed record ExecdResult(ExecdOutcome Outcome, string? Answer = null, string? RepeatKey = null, int? ExitCode = null, string? Error = null);
