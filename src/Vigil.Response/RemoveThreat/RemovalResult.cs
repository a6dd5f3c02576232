using Vigil.Response.Quarantine;

namespace Vigil.Response.RemoveThreat;

/// <summary>How a removal ended.</summary>
internal enum RemovalOutcome
{
    /// <summary>The file is in a vault.</summary>
    Quarantined,

    /// <summary>The file was deleted (the <c>delete</c> action).</summary>
    Deleted,

    /// <summary>The path or the file broke a safety rule; nothing was touched.</summary>
    Refused,

    /// <summary>The file's content is no longer the flagged content; nothing was touched.</summary>
    HashChanged,

    /// <summary>There is no file at the path and no record of removing it.</summary>
    AlreadyGone,

    /// <summary>Another response removed this file a moment ago.</summary>
    AlreadyHandled,

    /// <summary>The operator restored a file with this hash; it is not removed again.</summary>
    Exempt,

    /// <summary>An operation failed part-way (I/O error, lock timeout); the message says what stands.</summary>
    Failed,
}

/// <summary>The outcome of one removal, a message for the log, and the record written when a file was removed.</summary>
internal sealed record RemovalResult(RemovalOutcome Outcome, string Message, QuarantineRecord? Record = null)
{
    public bool IsRemoved => Outcome is RemovalOutcome.Quarantined or RemovalOutcome.Deleted;

    public bool IsError => Outcome is RemovalOutcome.Refused or RemovalOutcome.HashChanged or RemovalOutcome.Failed;
}
