using Vigil.Core;
using Vigil.Core.Patterns;

namespace Vigil.Analysis.Rules.Lists;

// A Wazuh CDB list read from its text source (etc/lists/foo): one key:value per line, the value
// optional, a key containing ":" written in double quotes ("a0:b1:c2":value).
// Keys match exactly and case-sensitively, like Wazuh's constant database. Blank lines and lines whose first
// character is "#" are skipped. When a key repeats, the first entry wins, as a CDB lookup returns the first record.
// Address lookups treat a key ending in a dot as a network: "192.168." covers 192.168.0.0/16.
internal sealed class CdbList
{
    private readonly Dictionary<string, string> _entries;
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _spanLookup;

    private CdbList(string path, Dictionary<string, string> entries)
    {
        Path = path;
        _entries = entries;
        _spanLookup = entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    // The file the list was read from, as given to Load.
    public string Path { get; }

    public int Count => _entries.Count;

    // Reads a list file; a malformed line throws a VigilException naming path:line.
    public static CdbList Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VigilException($"{path}: cannot read list: {ex.Message}", innerException: ex);
        }

        return Parse(path, lines);
    }

    // Builds a list from lines already read; path is only used in error messages.
    public static CdbList Parse(string path, IEnumerable<string> lines)
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var rawLine in lines)
        {
            lineNumber++;
            var line = rawLine.TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line) || line.StartsWith('#'))
            {
                continue;
            }

            var (key, value, error) = ParseLine(line);
            if (error is not null)
            {
                throw new VigilException($"{path}:{lineNumber}: {error}: {line}");
            }

            entries.TryAdd(key!, value!);
        }

        return new CdbList(path, entries);
    }

    public static bool TryParseLookup(string? attribute, out CdbLookup lookup)
    {
        switch (attribute)
        {
            case null or "" or "match_key":
                lookup = CdbLookup.MatchKey;
                return true;
            case "not_match_key":
                lookup = CdbLookup.NotMatchKey;
                return true;
            case "match_key_value":
                lookup = CdbLookup.MatchKeyValue;
                return true;
            case "address_match_key":
                lookup = CdbLookup.AddressMatchKey;
                return true;
            case "not_address_match_key":
                lookup = CdbLookup.NotAddressMatchKey;
                return true;
            case "address_match_key_value":
                lookup = CdbLookup.AddressMatchKeyValue;
                return true;
            default:
                lookup = default;
                return false;
        }
    }

    public bool ContainsKey(string key) => _entries.ContainsKey(key);

    public bool TryGetValue(string key, out string value) => _entries.TryGetValue(key, out value!);

    // Whether an event's field value passes the lookup. check is the compiled check_value
    // for the *_value lookups; without one, finding the key is enough.
    public bool Matches(CdbLookup lookup, string fieldValue, Pattern? check)
    {
        ArgumentNullException.ThrowIfNull(fieldValue);
        return lookup switch
        {
            CdbLookup.MatchKey => _entries.ContainsKey(fieldValue),
            CdbLookup.NotMatchKey => !_entries.ContainsKey(fieldValue),
            CdbLookup.MatchKeyValue => _entries.TryGetValue(fieldValue, out var value) && (check is null || check.IsMatch(value)),
            CdbLookup.AddressMatchKey => TryFindAddress(fieldValue, out _),
            CdbLookup.NotAddressMatchKey => !TryFindAddress(fieldValue, out _),
            CdbLookup.AddressMatchKeyValue => TryFindAddress(fieldValue, out var value) && (check is null || check.IsMatch(value)),
            _ => throw new ArgumentOutOfRangeException(nameof(lookup), lookup, "unknown CDB lookup"),
        };
    }

    // Finds the entry for an address: the address itself, else its longest listed dotted prefix (10.1.1., 10.1., 10.).
    public bool TryFindAddress(string address, out string value)
    {
        if (_entries.TryGetValue(address, out value!))
        {
            return true;
        }

        var span = address.AsSpan();
        for (var dot = span.LastIndexOf('.'); dot > 0; dot = span[..dot].LastIndexOf('.'))
        {
            // A prefix that is the whole address was already tried above.
            if (dot + 1 < span.Length && _spanLookup.TryGetValue(span[..(dot + 1)], out value!))
            {
                return true;
            }
        }

        value = "";
        return false;
    }

    private static (string? Key, string? Value, string? Error) ParseLine(string line)
    {
        string key;
        int rest;
        if (line[0] == '"')
        {
            var close = line.IndexOf('"', 1);
            if (close < 0)
            {
                return (null, null, "unterminated quoted key");
            }

            key = line[1..close];
            rest = close + 1;
            if (rest < line.Length && line[rest] != ':')
            {
                return (null, null, $"expected ':' after the quoted key at column {rest + 1}");
            }
        }
        else
        {
            var colon = line.IndexOf(':');
            rest = colon < 0 ? line.Length : colon;
            key = line[..rest];
        }

        if (key.Length == 0)
        {
            return (null, null, "empty key");
        }

        var value = rest < line.Length ? line[(rest + 1)..] : "";
        return (key, value, null);
    }
}
