namespace Vigil.Intel.ClamAv;

/// <summary>
/// One reply of clamd to a scan (<c>zINSTREAM</c> or <c>zFILDES</c>), parsed strictly: <c>stream: OK</c> or
/// <c>fd[N]: OK</c>, <c>stream: NAME FOUND</c>, <c>… ERROR</c>; anything else is <see cref="Malformed"/>, never a
/// guess (a reply that is half a detection must not read as clean, nor as a detection of a made-up name).
/// </summary>
internal abstract record ClamdReply
{
    /// <summary>Longest reply taken; clamd's are one short line.</summary>
    public const int MaxLength = 4096;

    private ClamdReply()
    {
    }

    public sealed record Clean : ClamdReply;

    public sealed record Found(string Signature) : ClamdReply;

    public sealed record Error(string Message) : ClamdReply;

    public sealed record Malformed(string Reason) : ClamdReply;

    /// <summary>Parses a reply without its terminating NUL; never throws.</summary>
    public static ClamdReply Parse(ReadOnlySpan<char> reply)
    {
        if (reply.Length == 0)
        {
            return new Malformed("empty reply");
        }

        if (reply.Length > MaxLength)
        {
            return new Malformed($"reply longer than {MaxLength} characters");
        }

        foreach (var c in reply)
        {
            if (c < ' ' || c > '~')
            {
                return new Malformed($"reply holds the character U+{(int)c:X4}");
            }
        }

        if (reply.EndsWith(" ERROR", StringComparison.Ordinal))
        {
            var message = reply[..^" ERROR".Length].Trim();
            var colon = message.IndexOf(": ", StringComparison.Ordinal);
            if (colon >= 0 && IsScanPrefix(message[..colon]))
            {
                message = message[(colon + 2)..];
            }

            return message.Length == 0 ? new Malformed("ERROR without a message") : new Error(message.ToString());
        }

        var separator = reply.IndexOf(": ", StringComparison.Ordinal);
        if (separator < 0 || !IsScanPrefix(reply[..separator]))
        {
            return new Malformed($"not a scan reply: {Shown(reply)}");
        }

        var rest = reply[(separator + 2)..];
        if (rest.SequenceEqual("OK"))
        {
            return new Clean();
        }

        if (rest.EndsWith(" FOUND", StringComparison.Ordinal))
        {
            var name = rest[..^" FOUND".Length];
            if (name.Length > 0 && !name.Contains(' '))
            {
                return new Found(name.ToString());
            }

            return new Malformed($"not a signature name: {Shown(name)}");
        }

        return new Malformed($"neither OK, FOUND nor ERROR: {Shown(reply)}");
    }

    // "stream" for INSTREAM, "fd[N]" for FILDES.
    private static bool IsScanPrefix(ReadOnlySpan<char> prefix)
    {
        if (prefix.SequenceEqual("stream"))
        {
            return true;
        }

        if (prefix.Length < 5 || !prefix.StartsWith("fd[") || prefix[^1] != ']')
        {
            return false;
        }

        foreach (var c in prefix[3..^1])
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }

    private static string Shown(ReadOnlySpan<char> text) => text.Length <= 80 ? $"'{text}'" : $"'{text[..80]}…'";
}
