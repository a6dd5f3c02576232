using Vigil.Core;
using Vigil.Core.Patterns;

namespace Vigil.Analysis.Rules.Lists;

/// <summary>How a <c>&lt;list&gt;</c> element looks a field up.</summary>
internal enum CdbLookup
{
    MatchKey,
    NotMatchKey,
    MatchKeyValue,
    AddressMatchKey,
    NotAddressMatchKey,
    AddressMatchKeyValue,
}

/// <summary>A CDB list source file: <c>key:value</c> per line.</summary>
internal sealed class CdbList
{
    private readonly Dictionary<string, string> _entries;

    private CdbList(Dictionary<string, string> entries) => _entries = entries;

    public static CdbList Load(string path)
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            string key;
            string value;
            if (line.StartsWith('"'))
            {
                var close = line.IndexOf('"', 1);
                if (close < 0)
                {
                    throw new VigilException($"{path}:{lineNumber}: unterminated quoted key");
                }

                key = line[1..close];
                value = close + 1 < line.Length && line[close + 1] == ':' ? line[(close + 2)..] : "";
            }
            else
            {
                var colon = line.IndexOf(':');
                key = colon < 0 ? line : line[..colon];
                value = colon < 0 ? "" : line[(colon + 1)..];
            }

            entries[key] = value;
        }

        return new CdbList(entries);
    }

    public bool Matches(CdbLookup lookup, string fieldValue, Pattern? check) => lookup switch
    {
        CdbLookup.MatchKey => _entries.ContainsKey(fieldValue),
        CdbLookup.NotMatchKey => !_entries.ContainsKey(fieldValue),
        CdbLookup.MatchKeyValue => _entries.TryGetValue(fieldValue, out var v) && (check is null || check.IsMatch(v)),
        CdbLookup.AddressMatchKey => FindAddress(fieldValue) is not null,
        CdbLookup.NotAddressMatchKey => FindAddress(fieldValue) is null,
        CdbLookup.AddressMatchKeyValue => FindAddress(fieldValue) is { } av && (check is null || check.IsMatch(av)),
        _ => false,
    };

    private string? FindAddress(string ip)
    {
        // Keys are full addresses or dotted network prefixes ("10.0.0."): try the address, then shorter prefixes.
        if (_entries.TryGetValue(ip, out var value))
        {
            return value;
        }

        for (var i = ip.Length - 1; i > 0; i--)
        {
            if (ip[i - 1] == '.' && _entries.TryGetValue(ip[..i], out value))
            {
                return value;
            }
        }

        return null;
    }
}
