namespace Vigil.Web.Index;

/// <summary>A query that does not parse or cannot apply: the message says what and where (a 400, never a 500).</summary>
internal sealed class QueryException(string message, int position) : Exception(message)
{
    /// <summary>Zero-based offset in the query text where the problem is.</summary>
    public int Position { get; } = position;
}
