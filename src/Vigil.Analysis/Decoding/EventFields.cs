namespace Vigil.Analysis.Decoding;

/// <summary>
/// The fields a decoder extracted: Wazuh's static fields (srcip, user, …) and dynamic fields by name, looked up
/// case-insensitively, kept in decoding order for the alert's <c>data</c> object.
/// </summary>
internal sealed class EventFields
{
    /// <summary>Names Wazuh keeps as static fields; a top-level JSON key with one of these names fills it.</summary>
    public static readonly IReadOnlyList<string> StaticNames =
    [
        "protocol", "action", "srcip", "srcport", "srcuser", "dstip", "dstport", "dstuser", "id", "status",
        "url", "data", "extra_data", "system_name",
    ];

    private static readonly HashSet<string> s_staticSet = new(StaticNames, StringComparer.OrdinalIgnoreCase);

    // A linear scan beats building a dictionary for the field counts events have; the index is only built past this.
    private const int IndexThreshold = 64;

    // Room for a FIM or VirusTotal event's fields without growing; a modified FIM event with before-values grows once.
    private readonly List<KeyValuePair<string, string>> _dynamic = new(16);
    private HashSet<int>? _arrays;
    private static readonly Dictionary<string, string> s_noStatic = new(StringComparer.OrdinalIgnoreCase);
    private Dictionary<string, string>? _static;
    private Dictionary<string, string>? _index;

    public IReadOnlyList<KeyValuePair<string, string>> Dynamic => _dynamic;

    public IReadOnlyDictionary<string, string> Static => _static ?? s_noStatic;

    public int Count => _dynamic.Count;

    public static bool IsStaticName(string name) => s_staticSet.Contains(name);

    public void SetStatic(string name, string value) =>
        (_static ??= new(StringComparer.OrdinalIgnoreCase))[Normalize(name)] = value;

    public void AddDynamic(string name, string value)
    {
        _dynamic.Add(new(name, value));
        _index = null;
    }

    /// <summary>Adds a field that came from a JSON array, kept as the array's JSON text (Wazuh's json_array_structure).</summary>
    public void AddDynamicArray(string name, string arrayJson)
    {
        (_arrays ??= []).Add(_dynamic.Count);
        AddDynamic(name, arrayJson);
    }

    /// <summary>Forgets every field (a decoder that fails half-way leaves none).</summary>
    public void Clear()
    {
        _dynamic.Clear();
        _static?.Clear();
        _arrays = null;
        _index = null;
    }

    /// <summary>Whether the dynamic field at <paramref name="index"/> holds an array's JSON text.</summary>
    public bool IsArray(int index) => _arrays?.Contains(index) == true;

    /// <summary>A dynamic field by case-insensitive exact name.</summary>
    public string? GetDynamic(string name)
    {
        if (_dynamic.Count <= IndexThreshold)
        {
            foreach (var (key, value) in _dynamic)
            {
                if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
                {
                    return value;
                }
            }

            return null;
        }

        if (_index is null)
        {
            _index = new(StringComparer.OrdinalIgnoreCase);
            foreach (var (key, value) in _dynamic)
            {
                _index.TryAdd(key, value);
            }
        }

        return _index.GetValueOrDefault(name);
    }

    public string? GetStatic(string name) => _static?.GetValueOrDefault(Normalize(name));

    /// <summary>A field as <c>$(name)</c> and <c>&lt;list field&gt;</c> see it: static first, then dynamic.</summary>
    public string? Get(string name) => (IsStaticName(name) || name is "user" ? GetStatic(name) : null) ?? GetDynamic(name);

    // "user" is Wazuh's alias of dstuser; "systemname" of system_name.
    private static string Normalize(string name) => name.ToLowerInvariant() switch
    {
        "user" => "dstuser",
        "systemname" => "system_name",
        var n => n,
    };
}
