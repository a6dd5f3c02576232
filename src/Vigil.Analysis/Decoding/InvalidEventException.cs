namespace Vigil.Analysis.Decoding;

/// <summary>An event that is not a valid message of its format (<see cref="AnalysisEvent.InvalidReason"/>): a dead letter.</summary>
internal sealed class InvalidEventException : Exception
{
    public InvalidEventException()
    {
    }

    public InvalidEventException(string message)
        : base(message)
    {
    }

    public InvalidEventException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
