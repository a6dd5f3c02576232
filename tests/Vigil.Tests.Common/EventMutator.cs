using System.Text;

namespace Vigil.Tests.Common;

/// <summary>
/// Seeded mutations of real events (FIM, VirusTotal, AR log) for fuzz tests: bit flips, truncations, values of the
/// wrong type, huge values, invalid UTF-8 (as U+FFFD would arrive, and as raw bytes for transports that carry bytes),
/// lone surrogates (escaped in JSON and as raw characters) and NUL. The same seed gives the same events.
/// </summary>
public sealed class EventMutator(int seed)
{
    private readonly Random _random = new(seed);

    /// <summary>A FIM "added" event (queue 8, location syscheck) for <paramref name="path"/>.</summary>
    public static string Fim(string path) =>
        """{"type":"event","data":{"path":"PATH","version":2.0,"mode":"realtime","type":"added","timestamp":1700000000,"attributes":{"type":"file","size":68,"perm":"rw-r--r--","uid":"0","gid":"0","user_name":"root","group_name":"root","inode":1704505,"mtime":1700000000,"hash_md5":"44d88612fea8a8f36de82e1278abb02f","hash_sha1":"3395856ce81f2b7382dee72602f798b642f14140","hash_sha256":"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f","checksum":"c"}}}""".Replace("PATH", path, StringComparison.Ordinal);

    /// <summary>A VirusTotal integration result (queue 1, location virustotal).</summary>
    public static string VirusTotal(string path) =>
        """{"virustotal": {"found": 1, "malicious": 1, "source": {"alert_id": "1700000000.1234", "file": "PATH", "md5": "44d88612fea8a8f36de82e1278abb02f", "sha1": "3395856ce81f2b7382dee72602f798b642f14140"}, "sha1": "3395856ce81f2b7382dee72602f798b642f14140", "scan_date": "2022-11-17 17:15:04", "positives": 66, "total": 68, "permalink": "https://www.virustotal.com/gui/file/x/detection"}, "integration": "virustotal"}""".Replace("PATH", path, StringComparison.Ordinal);

    /// <summary>An active-responses.log line of remove-threat (queue 1, location the AR log).</summary>
    public static string ActiveResponseLog(string path) =>
        """2022/11/17 19:30:26 active-response/bin/remove-threat: {"version":1,"origin":{"name":"node01","module":"wazuh-execd"},"command":"add","parameters":{"extra_args":[],"alert":{"rule":{"id":"87105"},"data":{"virustotal":{"source":{"file":"PATH"}}}},"program":"active-response/bin/remove-threat"}} Successfully removed threat located at PATH""".Replace("PATH", path, StringComparison.Ordinal);

    /// <summary>The three real events as (queue, location, message).</summary>
    public static IReadOnlyList<(char Queue, string Location, string Message)> Samples(string path) =>
    [
        ('8', "syscheck", Fim(path)),
        ('1', "virustotal", VirusTotal(path)),
        ('1', "/var/ossec/logs/active-responses.log", ActiveResponseLog(path)),
    ];

    /// <summary>One mutation of <paramref name="message"/>, and what was done to it.</summary>
    public (string Message, string Kind) Mutate(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        switch (_random.Next(10))
        {
            case 0:
                return (FlipBit(message), "bit flip");
            case 1:
                return (message[.._random.Next(message.Length)], "truncation");
            case 2:
                return (ReplaceValue(message, WrongType()), "wrong type");
            case 3:
                return (ReplaceValue(message, Huge()), "huge value");
            case 4:
                return (ReplaceValue(message, "\"a\uFFFD\uFFFDb\""), "invalid UTF-8 (as decoded)");
            case 5:
                return (ReplaceValue(message, _random.Next(2) == 0 ? "\"/x/p\\udcff.txt\"" : "\"\\ud800\\u0041\""), "lone surrogate escape");
            case 6:
                return (Insert(message, _random.Next(2) == 0 ? "\uDCFF" : "\uD800"), "lone surrogate character");
            case 7:
                return (Insert(message, _random.Next(2) == 0 ? "\0" : "\\u0000"), "NUL");
            case 8:
                return (ReplaceValue(message, Deep()), "deep nesting");
            default:
                var flipped = FlipBit(message);
                return (flipped[.._random.Next(flipped.Length)], "bit flip and truncation");
        }
    }

    /// <summary>The message as UTF-8 with one byte made invalid (0xFF or a lone continuation byte), for byte transports.</summary>
    public byte[] InvalidUtf8(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        if (bytes.Length > 0)
        {
            bytes[_random.Next(bytes.Length)] = _random.Next(2) == 0 ? (byte)0xFF : (byte)0x80;
        }

        return bytes;
    }

    private string FlipBit(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var i = _random.Next(bytes.Length);
        bytes[i] ^= (byte)(1 << _random.Next(8));
        return Encoding.UTF8.GetString(bytes);
    }

    private string Insert(string message, string text)
    {
        var at = _random.Next(message.Length + 1);
        return string.Concat(message.AsSpan(0, at), text, message.AsSpan(at));
    }

    // Replaces one quoted string value (or number) of the JSON with the given JSON text.
    private string ReplaceValue(string message, string replacement)
    {
        var starts = new List<int>();
        for (var i = 1; i < message.Length; i++)
        {
            if (message[i - 1] == ':' && (message[i] == '"' || char.IsAsciiDigit(message[i]) || (message[i] == ' ' && i + 1 < message.Length)))
            {
                starts.Add(message[i] == ' ' ? i + 1 : i);
            }
        }

        if (starts.Count == 0)
        {
            return Insert(message, replacement);
        }

        var start = starts[_random.Next(starts.Count)];
        var end = start;
        if (end < message.Length && message[end] == '"')
        {
            end++;
            while (end < message.Length && message[end] != '"')
            {
                end += message[end] == '\\' ? 2 : 1;
            }

            end = Math.Min(end + 1, message.Length);
        }
        else
        {
            while (end < message.Length && message[end] is not (',' or '}' or ']'))
            {
                end++;
            }
        }

        return string.Concat(message.AsSpan(0, start), replacement, message.AsSpan(end));
    }

    private string WrongType() => _random.Next(6) switch
    {
        0 => "null",
        1 => "true",
        2 => "{\"a\":1}",
        3 => "[1,\"x\",{}]",
        4 => "-0.5e-3",
        _ => "\"12\"",
    };

    private string Huge() => _random.Next(5) switch
    {
        0 => "\"" + new string('A', 200_000) + "\"",
        1 => "1e400",
        2 => "-99999999999999999999999999999999",
        3 => "18446744073709551616",
        _ => "[" + string.Join(",", Enumerable.Repeat("1", 20_000)) + "]",
    };

    private string Deep()
    {
        var depth = _random.Next(2) == 0 ? 63 : 200;
        return string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
    }
}
