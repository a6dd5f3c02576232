using System.Text;
using Vigil.Core;
using Vigil.Core.Hashing;

namespace Vigil.Intel.LocalLists;

/// <summary>
/// A set of known-bad hashes (MD5, SHA-1 or SHA-256, lower-case hex) with an optional threat name per hash.
/// Files are read once: plain lists (one hash a line; <c>sha256sum</c> output works, the first token counts) or CSV
/// with a header naming a <c>sha256</c> column (MalwareBazaar's exports: <c>#</c> comments, the header itself in a
/// comment, quoted fields, <c>sha256_hash</c>/<c>md5_hash</c>/<c>sha1_hash</c>/<c>signature</c> columns).
/// </summary>
internal sealed class HashList
{
    private readonly Dictionary<string, string?> _entries;

    public HashList(string name, IEnumerable<KeyValuePair<string, string?>> entries, HashKinds? kinds = null)
    {
        Name = name;
        _entries = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var present = HashKinds.None;
        foreach (var (hash, threat) in entries)
        {
            _entries.TryAdd(hash.ToLowerInvariant(), threat);
            present |= KindOf(hash);
        }

        Kinds = kinds ?? present;
    }

    public string Name { get; }

    public int Count => _entries.Count;

    /// <summary>
    /// The digests a file must be hashed with for this list to find it: those its entries are written in. A
    /// SHA-256-only list spares every scanned file its MD5 and SHA-1.
    /// </summary>
    public HashKinds Kinds { get; }

    /// <summary>The built-in list: the EICAR test file's three hashes.</summary>
    public static HashList Builtin { get; } = new("builtin", [
        new(Eicar.Md5, "EICAR-Test-File"),
        new(Eicar.Sha1, "EICAR-Test-File"),
        new(Eicar.Sha256, "EICAR-Test-File"),
    ], kinds: HashKinds.Sha256); // Three digests of one content: its SHA-256 alone finds it.

    private static HashKinds KindOf(string hash) => hash.Length switch
    {
        32 => HashKinds.Md5,
        40 => HashKinds.Sha1,
        64 => HashKinds.Sha256,
        _ => HashKinds.None,
    };

    public bool TryMatch(string? hash, out string? threat)
    {
        threat = null;
        return hash is not null && _entries.TryGetValue(hash, out threat);
    }

    /// <summary>Reads a list file; the list is named after the file. Throws <see cref="VigilException"/> naming the file.</summary>
    public static HashList Load(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VigilException($"hash list {path}: {ex.Message}");
        }

        return Parse(System.IO.Path.GetFileName(path), lines);
    }

    public static HashList Parse(string name, IEnumerable<string> lines)
    {
        var entries = new List<KeyValuePair<string, string?>>();
        int[]? hashColumns = null;
        var threatColumn = -1;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line[0] == '#')
            {
                // MalwareBazaar puts the CSV header in a comment: # "first_seen_utc","sha256_hash",...
                var header = line.TrimStart('#').Trim();
                if (header.Contains("sha256", StringComparison.OrdinalIgnoreCase) && header.Contains(','))
                {
                    (hashColumns, threatColumn) = ReadHeader(SplitCsv(header));
                }

                continue;
            }

            if (line.Contains(','))
            {
                var fields = SplitCsv(line);
                if (hashColumns is null && fields.Any(f => f.Contains("sha256", StringComparison.OrdinalIgnoreCase)))
                {
                    (hashColumns, threatColumn) = ReadHeader(fields);
                    continue;
                }

                var threat = threatColumn >= 0 && threatColumn < fields.Count && fields[threatColumn] is { Length: > 0 } t && t != "n/a" ? t : null;
                var columns = hashColumns ?? Enumerable.Range(0, fields.Count).ToArray();
                foreach (var column in columns)
                {
                    if (column < fields.Count && IsHash(fields[column]))
                    {
                        entries.Add(new(fields[column], threat));
                    }
                }

                continue;
            }

            var token = line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries)[0].TrimStart('\\');
            if (IsHash(token))
            {
                entries.Add(new(token, null));
            }
        }

        return new HashList(name, entries);
    }

    private static (int[] HashColumns, int ThreatColumn) ReadHeader(List<string> fields)
    {
        var names = fields.Select(f => f.Trim().ToLowerInvariant()).ToList();
        var hashes = names.Select((n, i) => (n, i))
            .Where(x => x.n is "sha256" or "sha256_hash" or "md5" or "md5_hash" or "sha1" or "sha1_hash")
            .Select(x => x.i).ToArray();
        var threat = names.FindIndex(n => n is "signature" or "threat");
        return (hashes, threat);
    }

    private static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString().Trim());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString().Trim());
        return fields;
    }

    private static bool IsHash(string text) => text.Length is 32 or 40 or 64 && text.All(char.IsAsciiHexDigit);
}
