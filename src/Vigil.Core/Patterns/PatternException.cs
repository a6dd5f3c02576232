namespace Vigil.Core.Patterns;

/// <summary>A pattern that cannot be compiled; the message says what is wrong and where, without a file name.</summary>
public sealed class PatternException(string message) : VigilException(message);
