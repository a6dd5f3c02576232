namespace Vigil.Analysis.Decoding;

/// <summary>
/// Wazuh's pre-decoding of a log line, done before the XML decoders: a leading timestamp in one of the formats
/// Wazuh knows (syslog <c>Dec 29 10:00:01</c>, <c>2015 Dec 29 10:00:01</c>, ISO 8601 with or without fraction and
/// zone, <c>2015-04-16 21:51:02,805</c>, xferlog, snort, suricata, apache, squid) is cut off; after a syslog
/// timestamp come the hostname and the program name (<c>name:</c>, <c>name[pid]:</c>, with a Solaris
/// <c>[ID n facility.severity]</c> dropped). What is left is the log the decoders and rules read.
/// </summary>
internal static class SyslogPreDecoder
{
    public static void Apply(AnalysisEvent e)
    {
        var log = e.FullLog;
        int? after = SyslogTimestampLength(log);
        if (after is { } length)
        {
            e.PreDecodedTimestamp = log[..(length - 1)];
            var rest = length;
            if (rest < log.Length && log[rest] == ' ')
            {
                rest++;
            }

            ReadHostAndProgram(e, log, rest);
            return;
        }

        var skip = OtherTimestampLength(log);
        if (skip > 0)
        {
            e.PreDecodedTimestamp = log[..Math.Min(skip, log.Length)].TrimEnd(' ', ']');
            e.Log = skip <= log.Length ? log[skip..] : "";
        }
    }

    // The length of the timestamp and the space after it, for the formats followed by hostname and program.
    private static int? SyslogTimestampLength(string p)
    {
        var n = p.Length + 1; // Wazuh's loglen counts the terminator.
        char At(int i) => i < p.Length ? p[i] : '\0';
        if (n > 17 && At(3) == ' ' && At(6) == ' ' && At(9) == ':' && At(12) == ':' && At(15) == ' ')
        {
            return 16;
        }

        if (n > 24 && At(4) == '-' && At(7) == '-' && At(10) == ' ' && At(13) == ':' && At(16) == ':' && At(19) == ',')
        {
            return 24;
        }

        if (n > 33 && At(4) == '-' && At(7) == '-' && At(10) == 'T' && At(13) == ':' && At(16) == ':')
        {
            if (At(22) == ':' && At(25) == ' ')
            {
                return 26;
            }

            if (At(19) == '.')
            {
                return At(26) == ':' ? 30 : At(29) == ':' ? 33 : 32;
            }
        }

        if (n > 21 && char.IsAsciiDigit(At(0)) && At(4) == ' ' && At(8) == ' ' && At(11) == ' ' && At(14) == ':' && At(17) == ':' && At(20) == ' ')
        {
            return 21;
        }

        if (n > 33 && char.IsAsciiDigit(At(0)) && At(4) == '-' && At(7) == '-' && At(10) == ' ' && At(13) == ':' && At(16) == ':'
            && At(19) == '.' && (At(26) is '-' or '+') && At(31) == ' ')
        {
            return 32;
        }

        return null;
    }

    // Formats with no hostname or program after them: how much of the line the timestamp takes.
    private static int OtherTimestampLength(string p)
    {
        var n = p.Length + 1;
        char At(int i) => i < p.Length ? p[i] : '\0';
        if (n > 28 && At(3) == ' ' && At(7) == ' ' && At(10) == ' ' && At(13) == ':' && At(16) == ':' && At(19) == ' ' && At(24) == ' ' && At(26) == ' ')
        {
            return 25; // xferlog
        }

        if (n > 24 && At(2) == '/' && At(5) == '-' && At(8) == ':' && At(11) == ':' && At(14) == '.' && At(21) == ' ')
        {
            return 23; // snort
        }

        if (n > 28 && At(2) == '/' && At(5) == '/' && At(10) == '-' && At(13) == ':' && At(16) == ':' && At(19) == '.' && At(26) == ' ')
        {
            return 28; // suricata
        }

        if (n > 27 && At(0) == '[' && At(4) == ' ' && At(8) == ' ' && At(11) == ' ' && At(14) == ':' && At(17) == ':' && At(20) == ' ' && At(25) == ']')
        {
            return 27; // apache
        }

        if (n > 32 && At(0) == '1' && char.IsAsciiDigit(At(1)) && char.IsAsciiDigit(At(2)) && char.IsAsciiDigit(At(3)) && At(10) == '.'
            && char.IsAsciiDigit(At(13)) && At(14) == ' ' && (At(21) == ' ' || At(22) == ' '))
        {
            var i = 14;
            while (i < p.Length && p[i] == ' ')
            {
                i++;
            }

            return i; // squid
        }

        return 0;
    }

    // Wazuh's hostname characters: letters, digits and - _ . @ / (and the bytes above 0x7F).
    private static bool IsHostChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@' or '/' || c > '\x7f';

    private static void ReadHostAndProgram(AnalysisEvent e, string log, int start)
    {
        // Everything after the timestamp is the log unless a hostname and program are found.
        e.Log = log[start..];
        var i = start;
        while (i < log.Length && IsHostChar(log[i]))
        {
            i++;
        }

        char At(int k) => k < log.Length ? log[k] : '\0';
        if (At(i) == ':' && At(i + 1) == ' ')
        {
            // Solaris 8/9: no hostname, the program comes first.
            e.ProgramName = log[start..i];
            e.Log = log[(i + 2)..];
            return;
        }

        if (At(i) != ' ')
        {
            return;
        }

        e.PreDecodedHostname = log[start..i];
        var programStart = i + 1;
        e.Log = programStart <= log.Length ? log[programStart..] : "";
        var p = programStart;
        while (p < log.Length && IsHostChar(log[p]))
        {
            p++;
        }

        int? rest = null;
        if (At(p) == ':')
        {
            rest = p + 1 + (At(p + 1) == ' ' ? 1 : 0);
        }
        else if (At(p) == '[' && char.IsAsciiDigit(At(p + 1)))
        {
            var d = p + 2;
            while (char.IsAsciiDigit(At(d)))
            {
                d++;
            }

            if (At(d) == ']' && At(d + 1) == ':')
            {
                rest = d + 2 + (At(d + 2) == ' ' ? 1 : 0);
            }
            else if (At(d) == ']' && At(d + 1) == ' ')
            {
                rest = d + 2;
            }
        }

        if (rest is not { } after)
        {
            return;
        }

        e.ProgramName = log[programStart..p];
        var text = after <= log.Length ? log[after..] : "";
        if (text.StartsWith("[ID ", StringComparison.Ordinal) && text.IndexOf(']', 4) is var close and > 0)
        {
            text = close + 2 <= text.Length ? text[(close + 2)..] : "";
        }

        e.Log = text;
    }
}
