namespace Vigil.Core;

/// <summary>An expected failure (bad input, bad configuration) whose message is meant for the user, without a stack trace.</summary>
public class VigilException(string message, bool isFatal = false, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>Whether the failure stops the whole command or host rather than one item.</summary>
    public bool IsFatal { get; } = isFatal;
}
